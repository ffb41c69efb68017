using System.Buffers;

namespace Lenta.Server.Api;

/// <summary>
/// A JSON answer written into a buffer rented from <see cref="ArrayPool{T}.Shared"/> and sent as the result of the
/// request, after which the buffer goes back to the pool. Timeline pages are ~60 KB: a fresh array per answer (and
/// its doubling past 85 KB into the large object heap) was most of what the read paths allocated. If the result is
/// never executed (an error after it was written) the buffer is simply left to the garbage collector.
/// </summary>
public sealed class PooledJson : IBufferWriter<byte>, IResult
{
    private byte[] _buffer;
    private int _written;

    public PooledJson(int sizeHint) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, 256));

    public int Length => _written;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length)
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - _written >= Math.Max(sizeHint, 1))
            return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = _written;
        try
        {
            await response.Body.WriteAsync(_buffer.AsMemory(0, _written), httpContext.RequestAborted);
        }
        finally
        {
            var buffer = _buffer;
            _buffer = [];
            _written = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
