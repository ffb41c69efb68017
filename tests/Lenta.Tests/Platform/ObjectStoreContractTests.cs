using System.Text;
using Lenta.Server.Platform.Objects;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Platform;

/// <summary>What every object store adapter must do; disk folders now, S3 when it comes.</summary>
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

    [Fact]
    public async Task A_large_object_streams_through_intact()
    {
        var data = new byte[5 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(data);
        Assert.Equal(data.Length, await Store.PutAsync("big/blob", new MemoryStream(data)));
        await using var s = (await Store.OpenReadAsync("big/blob"))!;
        var copy = new MemoryStream();
        await s.CopyToAsync(copy);
        Assert.Equal(data, copy.ToArray());
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
