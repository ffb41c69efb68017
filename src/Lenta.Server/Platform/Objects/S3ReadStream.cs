using Amazon.S3;
using Amazon.S3.Model;

namespace Lenta.Server.Platform.Objects;

/// <summary>
/// A seekable stream over one S3 object that reads it with ranged GetObjects: the first window is small (a Range request
/// for a video's first bytes or a type sniff fetch little), each following window doubles up to 16 MiB (a whole read
/// takes a handful of requests), and a seek starts over from a small window at the new position. Each request matches the
/// ETag the object was opened with, so a replaced object fails the read instead of mixing two versions.
/// </summary>
internal sealed class S3ReadStream(IAmazonS3 client, string bucket, string key, long length, string etag) : Stream
{
    private const int FirstWindow = 256 * 1024;
    private const int LargestWindow = 16 * 1024 * 1024;

    private long _position;
    private GetObjectResponse? _response;
    private long _windowEnd;
    private int _window = FirstWindow;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_position >= length || buffer.Length == 0)
            return 0;
        if (_response is null || _position >= _windowEnd)
            await OpenWindowAsync(ct);
        var wanted = (int)Math.Min(buffer.Length, _windowEnd - _position);
        var read = await _response!.ResponseStream.ReadAsync(buffer[..wanted], ct);
        if (read == 0)
            throw new IOException($"Bucket '{bucket}': object '{key}' ended at byte {_position} of {length}.");
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private async Task OpenWindowAsync(CancellationToken ct)
    {
        CloseWindow();
        var end = Math.Min(length, _position + _window);
        _window = Math.Min(_window * 2, LargestWindow);
        try
        {
            _response = await client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = bucket,
                Key = key,
                ByteRange = new ByteRange(_position, end - 1),
                EtagToMatch = etag,
            }, ct);
        }
        catch (AmazonS3Exception e)
        {
            throw new IOException($"Bucket '{bucket}': cannot read '{key}' at byte {_position} ({(int)e.StatusCode} {e.ErrorCode}).", e);
        }
        _windowEnd = end;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        if (target < 0)
            throw new IOException("Cannot seek before the start of the object.");
        if (target != _position)
        {
            CloseWindow();
            _window = FirstWindow;
            _position = target;
        }
        return _position;
    }

    private void CloseWindow()
    {
        // Disposing an unfinished response drops its connection rather than reading the rest of the window.
        _response?.Dispose();
        _response = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            CloseWindow();
        base.Dispose(disposing);
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
