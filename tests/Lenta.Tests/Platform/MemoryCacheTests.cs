using Lenta.Server.Platform.Cache;

namespace Lenta.Tests.Platform;

/// <summary>
/// The in-process adapter's own promises: a byte budget, within which keys not read lately are evicted first (second
/// chance); and decoded values kept as objects, handed out as the same instance, in place of their bytes.
/// </summary>
public sealed class MemoryCacheTests
{
    private static async Task<byte[]?> GetAsync(MemoryCache cache, string key) => (await cache.GetManyAsync([key]))[0];

    private static string Utf8(byte[] b) => System.Text.Encoding.UTF8.GetString(b);

    [Fact]
    public async Task A_key_read_decoded_keeps_its_object_and_drops_its_bytes()
    {
        var cache = new MemoryCache(64L * 1024 * 1024);
        await cache.SetAsync("k", "one"u8.ToArray());
        var first = (await cache.GetManyDecodedAsync(["k"], Utf8))[0];
        Assert.Equal("one", first);
        Assert.Same(first, (await cache.GetManyDecodedAsync(["k"], Utf8))[0]);
        Assert.Null(await GetAsync(cache, "k"));
    }

    [Fact]
    public async Task A_value_added_with_its_decoded_form_is_handed_out_as_that_very_object()
    {
        var cache = new MemoryCache(64L * 1024 * 1024);
        var decoded = new string("one".AsSpan()); // an instance of its own
        Assert.True(await cache.AddDecodedAsync("k", "one"u8.ToArray(), decoded));
        Assert.Same(decoded, (await cache.GetManyDecodedAsync(["k"], Utf8))[0]);
    }

    [Fact]
    public async Task The_byte_budget_is_respected_and_keys_not_read_lately_go_first()
    {
        var cache = new MemoryCache(2 * 1024 * 1024);
        var value = new byte[10_000];
        await cache.SetAsync("hot", value);
        for (var i = 0; i < 2_000; i++)
        {
            await cache.SetAsync($"k{i}", value);
            // Kept warm after every write, so always given a second chance when its shard evicts (64 shards of 32 KB here:
            // three of these values fit in one, so touching it less often could let its shard fill in between).
            Assert.NotNull(await GetAsync(cache, "hot"));
            Assert.True(cache.SizeBytes <= 2 * 1024 * 1024, $"size {cache.SizeBytes} over budget");
        }
        Assert.NotNull(await GetAsync(cache, "hot"));
        Assert.Null(await GetAsync(cache, "k0"));
        Assert.NotNull(await GetAsync(cache, "k1999"));
    }

    [Fact]
    public async Task Growing_sorted_sets_are_accounted_and_evicted()
    {
        var cache = new MemoryCache(1024 * 1024);
        for (var i = 0; i < 500; i++)
        {
            await cache.SortedReplaceAsync($"t{i}", Array.Empty<long>(), 800);
            for (var j = 0; j < 800; j += 100)
                await cache.SortedAddIfPresentAsync($"t{i}", Enumerable.Range(j, 100).Select(x => (long)x).ToArray(), 800);
        }
        Assert.True(cache.SizeBytes <= 1024 * 1024, $"size {cache.SizeBytes} over budget");
        Assert.NotNull(await cache.SortedRangeAsync("t499", new SortedRange(null, null, 1)));
        Assert.Null(await cache.SortedRangeAsync("t0", new SortedRange(null, null, 1)));
    }

    [Fact]
    public async Task Concurrent_reads_never_see_a_gap_or_another_keys_value_while_writers_replace_and_evict()
    {
        // Two caches: a roomy one where "post:1" is only ever replaced and "lc:1" only incremented (a reader must always
        // find them), and a small one where eviction runs all the time (a reader may miss, but what it finds must belong
        // to its key).
        var roomy = new MemoryCache(64L * 1024 * 1024);
        var small = new MemoryCache(256 * 1024);
        await roomy.SetAsync("post:1", Value(1, 0));
        await roomy.AddCountersAsync([new("lc:1", 0)]);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        // Threads of their own: these loops never yield (the in-process cache completes synchronously).
        var writers = Enumerable.Range(0, 2).Select(w => Task.Factory.StartNew(async () =>
        {
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                await roomy.SetAsync("post:1", Value(1, round));
                await roomy.IncrementIfPresentAsync("lc:1", 1);
                for (var id = 1; id < 200; id++)
                    await small.SetAsync("post:" + id, Value(id, round));
            }
        }, TaskCreationOptions.LongRunning).Unwrap()).ToList();
        long[] ids = [1, 2, 50, 199];
        var readers = Enumerable.Range(0, 2).Select(r => Task.Factory.StartNew(async () =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested)
            {
                var always = await roomy.GetManyDecodedAsync("post:", [1L], b => b);
                Assert.NotNull(always[0]);
                Assert.Equal(1, BitConverter.ToInt64(always[0]));
                Assert.NotNull(await roomy.GetCounterAsync("lc:1"));
                var page = await small.GetManyDecodedAsync("post:", ids, b => b);
                for (var i = 0; i < page.Length; i++)
                {
                    if (page[i] is { } v)
                        Assert.Equal(ids[i], BitConverter.ToInt64(v));
                }
                reads++;
            }
            return reads;
        }, TaskCreationOptions.LongRunning).Unwrap()).ToList();
        await Task.WhenAll(writers);
        Assert.All(await Task.WhenAll(readers), n => Assert.True(n > 100, $"only {n} reads"));
        Assert.True(small.SizeBytes <= 256 * 1024, $"size {small.SizeBytes} over budget");

        static byte[] Value(long id, int round)
        {
            var v = new byte[600 + round % 7];
            BitConverter.TryWriteBytes(v, id);
            return v;
        }
    }

    [Fact]
    public async Task Dropping_a_quarter_of_the_budget_starts_one_collection_and_the_count_begins_again()
    {
        const long budget = 128L * 1024 * 1024;
        var collections = 0;
        var cache = new MemoryCache(budget, GarbageMeter.For(budget, () => Interlocked.Increment(ref collections)));
        var value = new byte[10_000];
        // Each write replaces one of 100 keys: the value it replaces (240 + 3 × 2 + 10,000 = 10,246 estimated bytes) is
        // dropped. A quarter of the budget, 33,554,432 bytes, is 3,275 of them.
        var writes = 0;
        async Task WriteAsync(int n)
        {
            for (var i = 0; i < n; i++, writes++)
                await cache.SetAsync($"k{writes % 100:D2}", value);
        }
        async Task<int> CollectionsAsync(int expected)
        {
            for (var waited = 0; Volatile.Read(ref collections) < expected && waited < 5_000; waited += 20)
                await Task.Delay(20);
            await Task.Delay(100);
            return Volatile.Read(ref collections);
        }

        await WriteAsync(100 + 3_200);
        Assert.Equal(0, await CollectionsAsync(0));
        await WriteAsync(100);
        Assert.Equal(1, await CollectionsAsync(1));
        await WriteAsync(3_200);
        Assert.Equal(1, await CollectionsAsync(1));
        await WriteAsync(100);
        Assert.Equal(2, await CollectionsAsync(2));
    }

    [Fact]
    public async Task A_value_larger_than_a_shard_is_not_kept()
    {
        var cache = new MemoryCache(1024 * 1024);
        await cache.SetAsync("big", new byte[200_000]);
        Assert.Null(await GetAsync(cache, "big"));
    }
}
