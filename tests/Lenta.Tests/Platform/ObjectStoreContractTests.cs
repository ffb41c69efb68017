using System.Text;
using Lenta.Server.Platform.Objects;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Platform;

/// <summary>What every object store adapter must do: disk folders and S3 buckets.</summary>
public abstract class ObjectStoreContractTests : PortContractTests<IObjectStore>
{
    protected IObjectStore Store => Subject;

    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    private async Task<string?> ReadAsync(string key)
    {
        await using var s = await Store.OpenReadAsync(key);
        if (s is null)
            return null;
        using var reader = new StreamReader(s);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Put_then_read_and_stat()
    {
        Assert.Equal(5, await Store.PutAsync("media/1/original.jpg", Text("hello")));
        Assert.Equal("hello", await ReadAsync("media/1/original.jpg"));
        var info = await Store.StatAsync("media/1/original.jpg");
        Assert.NotNull(info);
        Assert.Equal(5, info.Length);
        Assert.StartsWith("\"", info.ETag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_keys_read_as_null()
    {
        Assert.Null(await Store.OpenReadAsync("nope/none"));
        Assert.Null(await Store.StatAsync("nope/none"));
        Assert.Equal(0, await Store.DeletePrefixAsync("nope/"));
    }

    [Fact]
    public async Task A_put_replaces_the_whole_object()
    {
        await Store.PutAsync("a/b", Text("a longer first version"));
        await Store.PutAsync("a/b", Text("short"));
        Assert.Equal("short", await ReadAsync("a/b"));
    }

    /// <summary>Empty, one byte, one byte past S3's smallest part, exactly one part, and a long video's worth of parts.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5 * 1024 * 1024 + 1)]
    [InlineData(S3ObjectStore.PartSize)]
    [InlineData(60 * 1024 * 1024)]
    public async Task Objects_of_every_size_come_back_byte_for_byte(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        Assert.Equal(size, await Store.PutAsync("big/blob", new NonSeekable(data)));
        Assert.Equal(size, (await Store.StatAsync("big/blob"))!.Length);
        await using var s = (await Store.OpenReadAsync("big/blob"))!;
        var copy = new MemoryStream();
        await s.CopyToAsync(copy);
        Assert.True(data.AsSpan().SequenceEqual(copy.ToArray()), $"the {size}-byte object came back different ({copy.Length} bytes)");
    }

    [Fact]
    public async Task A_read_seeks_to_any_range()
    {
        var data = new byte[3 * 1024 * 1024 + 7];
        new Random(3).NextBytes(data);
        await Store.PutAsync("media/3/video.mp4", new MemoryStream(data));
        await using var s = (await Store.OpenReadAsync("media/3/video.mp4"))!;
        Assert.True(s.CanSeek);
        Assert.Equal(data.Length, s.Length);
        foreach (var (from, count) in new[] { (2_000_000L, 1000), (10L, 100), (data.Length - 5L, 5), (0L, 1), (1_000_000L, 1_500_000) })
        {
            s.Seek(from, SeekOrigin.Begin);
            var buffer = new byte[count];
            await s.ReadExactlyAsync(buffer);
            Assert.True(data.AsSpan((int)from, count).SequenceEqual(buffer), $"bytes {from}+{count} differ");
        }
        s.Seek(-3, SeekOrigin.End);
        Assert.Equal(3, await s.ReadAtLeastAsync(new byte[10], 10, throwOnEndOfStream: false));
        Assert.Equal(0, await s.ReadAsync(new byte[10]));
    }

    [Fact]
    public async Task A_failed_put_leaves_no_object()
    {
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync("broken/one", new FailingStream()));
        Assert.Null(await Store.StatAsync("broken/one"));
    }

    [Fact]
    public async Task Delete_by_prefix_takes_every_key_under_it_and_no_other()
    {
        await Store.PutAsync("media/7/original.jpg", Text("o"));
        await Store.PutAsync("media/7/small.jpg", Text("s"));
        await Store.PutAsync("media/7/hls/0.ts", Text("segment"));
        await Store.PutAsync("media/70/original.jpg", Text("other"));
        Assert.Equal(3, await Store.DeletePrefixAsync("media/7/"));
        Assert.Null(await Store.StatAsync("media/7/original.jpg"));
        Assert.Null(await Store.StatAsync("media/7/small.jpg"));
        Assert.Null(await Store.OpenReadAsync("media/7/hls/0.ts"));
        Assert.Equal("other", await ReadAsync("media/70/original.jpg"));
        Assert.Equal(0, await Store.DeletePrefixAsync("media/7/"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../etc/passwd")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData(".hidden")]
    [InlineData("back\\slash")]
    [InlineData("")]
    public async Task Unsafe_keys_are_refused(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, Text("x")));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
    }

    /// <summary>An upload body as a request gives it: no length, no seeking, short reads.</summary>
    private sealed class NonSeekable(byte[] data) : Stream
    {
        private int _at;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 65_536), data.Length - _at);
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class FailingStream : Stream
    {
        private int _reads;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) =>
            _reads++ < 3 ? count : throw new IOException("the client went away");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

public sealed class DiskObjectStoreContractTests : ObjectStoreContractTests
{
    protected override Task<(IObjectStore Port, Func<ValueTask> Release)> CreateAsync()
    {
        var folder = TempFolder.Create("lenta-objects");
        return Task.FromResult<(IObjectStore, Func<ValueTask>)>((new DiskObjectStore(folder), () =>
        {
            TempFolder.Delete(folder);
            return ValueTask.CompletedTask;
        }));
    }
}

public sealed class S3ObjectStoreContractTests : ObjectStoreContractTests
{
    protected override async Task<(IObjectStore Port, Func<ValueTask> Release)> CreateAsync()
    {
        var bucket = S3.NewBucket("contract");
        var client = S3.Client();
        var store = new S3ObjectStore(client, bucket, ObjectContentTypes.Immutable);
        await store.CreateIfMissingAsync(CancellationToken.None);
        return (store, async () =>
        {
            await S3.DropBucketAsync(bucket);
            client.Dispose();
        });
    }
}
