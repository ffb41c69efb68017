using Lenta.Server.Platform.Cache;

namespace Lenta.Tests.Platform;

/// <summary>What every cache adapter must do; the in-process one now, Redis when it comes.</summary>
public abstract class CacheContractTests : PortContractTests<ICache>
{
    protected ICache Cache => Subject;

    protected static string Key() => $"test:{Guid.NewGuid():N}";

    /// <summary>One key's bytes, read as the server reads bytes: a batch (of one).</summary>
    protected async Task<byte[]?> GetAsync(string key) => (await Cache.GetManyAsync([key]))[0];

    [Fact]
    public async Task Bytes_round_trip_and_missing_keys_are_null()
    {
        var key = Key();
        Assert.Null(await GetAsync(key));
        await Cache.SetAsync(key, new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, await GetAsync(key));
        Assert.True(await Cache.RemoveAsync(key));
        Assert.False(await Cache.RemoveAsync(key));
        Assert.Null(await GetAsync(key));
    }

    [Fact]
    public async Task Decoded_values_follow_the_bytes_and_a_rewrite_decodes_again()
    {
        var key = Key();
        var decodes = 0;
        string Decode(byte[] b)
        {
            Interlocked.Increment(ref decodes);
            return System.Text.Encoding.UTF8.GetString(b);
        }
        await Cache.SetAsync(key, "one"u8.ToArray());
        var first = await Cache.GetManyDecodedAsync([key, Key()], Decode);
        Assert.Equal("one", first[0]);
        Assert.Null(first[1]);
        Assert.Equal("one", (await Cache.GetManyDecodedAsync([key], Decode))[0]);
        await Cache.SetAsync(key, "two"u8.ToArray());
        Assert.Equal("two", (await Cache.GetManyDecodedAsync([key], Decode))[0]);
        Assert.InRange(decodes, 2, 3); // the in-process cache decodes once per written value; a remote one may decode per read
        // A key read decoded is read decoded from then on: a raw read may miss (an adapter may keep only the decoded
        // object), but never finds an older value.
        var raw = await GetAsync(key);
        Assert.True(raw is null || System.Text.Encoding.UTF8.GetString(raw) == "two");
    }

    [Fact]
    public async Task A_value_added_with_its_decoded_form_reads_as_that_form_and_only_when_absent()
    {
        var key = Key();
        var decoded = new string("one".AsSpan()); // an instance of its own
        Assert.True(await Cache.AddDecodedAsync(key, "one"u8.ToArray(), decoded));
        var read = (await Cache.GetManyDecodedAsync([key], b => System.Text.Encoding.UTF8.GetString(b)))[0];
        Assert.Equal("one", read);
        Assert.False(await Cache.AddDecodedAsync(key, "two"u8.ToArray(), "two"));
        Assert.Equal("one", (await Cache.GetManyDecodedAsync([key], b => System.Text.Encoding.UTF8.GetString(b)))[0]);
    }

    [Fact]
    public async Task Versioned_sets_keep_the_newest_whatever_the_order()
    {
        var key = Key();
        await Cache.SetManyIfNewerAsync([new(key, "v2"u8.ToArray(), 2)]);
        await Cache.SetManyIfNewerAsync([new(key, "v1"u8.ToArray(), 1)]); // a reader that read before the change
        Assert.Equal("v2"u8.ToArray(), await GetAsync(key));
        await Cache.SetManyIfNewerAsync([new(key, "v2 again"u8.ToArray(), 2)]);
        Assert.Equal("v2"u8.ToArray(), await GetAsync(key));
        await Cache.SetManyIfNewerAsync([new(key, "v3"u8.ToArray(), 3)]);
        Assert.Equal("v3"u8.ToArray(), await GetAsync(key));
        await Cache.SetAsync(key, "plain"u8.ToArray()); // an unversioned write is replaced by any version
        await Cache.SetManyIfNewerAsync([new(key, "v0"u8.ToArray(), 0)]);
        Assert.Equal("v0"u8.ToArray(), await GetAsync(key));
    }

    [Fact]
    public async Task Add_stores_only_when_the_key_is_absent()
    {
        var key = Key();
        Assert.True(await Cache.AddAsync(key, new byte[] { 1 }));
        Assert.False(await Cache.AddAsync(key, new byte[] { 2 }));
        Assert.Equal(new byte[] { 1 }, await GetAsync(key));
        await Cache.RemoveAsync(key);
        Assert.True(await Cache.AddAsync(key, new byte[] { 3 }, TimeSpan.FromMilliseconds(50)));
        await AdvanceAsync(TimeSpan.FromMilliseconds(200));
        Assert.True(await Cache.AddAsync(key, new byte[] { 4 }));
        Assert.Equal(new byte[] { 4 }, await GetAsync(key));
    }

    [Fact]
    public async Task Add_many_fills_only_the_absent_keys()
    {
        var (a, b) = (Key(), Key());
        await Cache.SetAsync(a, new byte[] { 9 });
        await Cache.AddManyAsync([new(a, new byte[] { 1 }), new(b, new byte[] { 2 })]);
        Assert.Equal(new byte[] { 9 }, await GetAsync(a));
        Assert.Equal(new byte[] { 2 }, await GetAsync(b));
    }

    [Fact]
    public async Task A_returned_value_is_a_copy_the_caller_cannot_corrupt()
    {
        var key = Key();
        await Cache.SetAsync(key, new byte[] { 1, 2, 3 });
        var first = (await GetAsync(key))!;
        first[0] = 99;
        Assert.Equal(new byte[] { 1, 2, 3 }, await GetAsync(key));
    }

    [Fact]
    public async Task Get_many_answers_one_slot_per_key_in_order()
    {
        var (a, b, c) = (Key(), Key(), Key());
        await Cache.SetAsync(a, "A"u8.ToArray());
        await Cache.SetAsync(c, "C"u8.ToArray());
        var values = await Cache.GetManyAsync([a, b, c]);
        Assert.Equal(3, values.Length);
        Assert.Equal("A"u8.ToArray(), values[0]);
        Assert.Null(values[1]);
        Assert.Equal("C"u8.ToArray(), values[2]);
    }

    [Fact]
    public async Task A_value_with_a_ttl_expires()
    {
        var key = Key();
        await Cache.SetAsync(key, new byte[] { 1 }, TimeSpan.FromMilliseconds(50));
        await AdvanceAsync(TimeSpan.FromMilliseconds(200));
        Assert.Null(await GetAsync(key));
    }

    [Fact]
    public async Task Counters_increment_only_when_cached()
    {
        var key = Key();
        Assert.Null(await Cache.IncrementIfPresentAsync(key, 1));
        Assert.Null(await Cache.GetCounterAsync(key));
        await Cache.AddCountersAsync([new(key, 10)]);
        Assert.Equal(11, await Cache.IncrementIfPresentAsync(key, 1));
        Assert.Equal(8, await Cache.IncrementIfPresentAsync(key, -3));
        Assert.Equal(8, await Cache.GetCounterAsync(key));
    }

    [Fact]
    public async Task Increment_creates_a_counter_that_expires_with_its_window()
    {
        var key = Key();
        Assert.Equal(1, await Cache.IncrementAsync(key, 1, TimeSpan.FromMilliseconds(100)));
        Assert.Equal(3, await Cache.IncrementAsync(key, 2, TimeSpan.FromMilliseconds(100)));
        await AdvanceAsync(TimeSpan.FromMilliseconds(300));
        Assert.Null(await Cache.GetCounterAsync(key));
        Assert.Equal(1, await Cache.IncrementAsync(key, 1, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Concurrent_creating_increments_count_every_one()
    {
        var key = Key();
        await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Cache.IncrementAsync(key, 1, TimeSpan.FromMinutes(1)).AsTask()));
        Assert.Equal(500, await Cache.GetCounterAsync(key));
    }

    [Fact]
    public async Task Counters_read_and_fill_in_batches_without_undoing_increments()
    {
        var prefix = $"t{Guid.NewGuid():N}:";
        await Cache.AddCountersAsync([new(prefix + 1, 5)]);
        Assert.Equal(6, await Cache.IncrementIfPresentAsync(prefix + 1, 1));
        await Cache.AddCountersAsync([new(prefix + 1, 100), new(prefix + 2, 7)]); // a fill that read before the increment
        Assert.Equal([6L, 7L, null], await Cache.GetCountersAsync(prefix, [1L, 2L, 3L]));
        Assert.Equal(8, await Cache.IncrementIfPresentAsync(prefix + 2, 1));
    }

    [Fact]
    public async Task Keys_named_by_prefix_and_id_are_the_same_entries_as_their_strings()
    {
        var prefix = $"t{Guid.NewGuid():N}:";
        long[] ids = [0, 7, 1_234_567_890_123_456_789, long.MaxValue];
        await Cache.SetAsync(prefix + ids[1], "seven"u8.ToArray());
        await Cache.SetAsync(prefix + ids[2], "big"u8.ToArray());
        var decoded = await Cache.GetManyDecodedAsync(prefix, ids, b => System.Text.Encoding.UTF8.GetString(b));
        Assert.Equal(new string?[] { null, "seven", "big", null }, decoded.AsEnumerable());
        Assert.Equal("seven", (await Cache.GetManyDecodedAsync([prefix + 7], b => System.Text.Encoding.UTF8.GetString(b)))[0]);
        Assert.All(await Cache.GetManyDecodedAsync(prefix[..^1], [7L, 17, 77], b => System.Text.Encoding.UTF8.GetString(b)), Assert.Null);

        await Cache.AddCountersAsync([new(prefix + ids[0], 3), new(prefix + ids[3], 9)]);
        Assert.Equal([3L, null, null, 9L], await Cache.GetCountersAsync(prefix, ids));
        Assert.Equal(4, await Cache.IncrementIfPresentAsync(prefix + 0, 1));
        Assert.Equal([4L], await Cache.GetCountersAsync(prefix, [0L]));
        var longPrefix = new string('p', 300) + ":";
        await Cache.AddCountersAsync([new(longPrefix + 5, 55)]);
        Assert.Equal([55L, null], await Cache.GetCountersAsync(longPrefix, [5L, 6L]));
    }

    [Fact]
    public async Task Keys_of_a_prefix_and_an_id_are_one_entry_whatever_names_them()
    {
        var prefix = "t" + new string(Guid.NewGuid().ToString("N").Select(c => char.IsAsciiDigit(c) ? (char)('g' + c - '0') : c).ToArray()) + ":";
        await Cache.SetAsync(prefix + 42, "x"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), await GetAsync(prefix + 42));
        Assert.Null(await GetAsync(prefix + "042")); // another key (a leading zero), not the same entry
        Assert.Null(await GetAsync(prefix + 43));
        await Cache.SetAsync(prefix + "042", "y"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), await GetAsync(prefix + 42));
        Assert.Equal("y"u8.ToArray(), await GetAsync(prefix + "042"));
        Assert.True(await Cache.RemoveAsync(prefix + 42));
        Assert.Null(await GetAsync(prefix + 42));
        Assert.Equal("y"u8.ToArray(), await GetAsync(prefix + "042"));

        long[] ids = [0, 5, 999_999_999_999_999_999, 1_000_000_000_000_000_000, -5];
        await Cache.AddCountersAsync(ids.Select(id => new KeyValuePair<string, long>(prefix + id, id % 1000)).ToList());
        Assert.Equal(ids.Select(id => (long?)(id % 1000)), await Cache.GetCountersAsync(prefix, ids));
        foreach (var id in ids)
            Assert.Equal(id % 1000, await Cache.GetCounterAsync(prefix + id));
        Assert.Equal(6, await Cache.IncrementIfPresentAsync(prefix + 5, 1));
        Assert.Equal([6L], await Cache.GetCountersAsync(prefix, [5L]));

        await Cache.SortedReplaceAsync(prefix + 7, new long[] { 3, 1, 2 }, 10);
        Assert.True(await Cache.SortedAddIfPresentAsync(prefix + 7, new long[] { 4 }, 10));
        Assert.Equal(1, await Cache.SortedAddToManyIfPresentAsync([prefix + 7, prefix + 8], 5, 10));
        Assert.Equal(new long[] { 5, 4, 3, 2, 1 }, await Cache.SortedRangeAsync(prefix + 7, new SortedRange(null, null, 10)));
        Assert.Null(await Cache.SortedRangeAsync(prefix + 8, new SortedRange(null, null, 10)));
    }

    [Fact]
    public async Task A_set_at_its_cap_keeps_exactly_its_largest_ids_as_ids_are_pushed()
    {
        var key = Key();
        await Cache.SortedReplaceAsync(key, Enumerable.Range(1, 100).Select(i => (long)i).ToArray(), 100);
        for (long id = 101; id <= 400; id++)
        {
            Assert.Equal(1, await Cache.SortedAddToManyIfPresentAsync([key], id, 100));
            var newest = await Cache.SortedRangeAsync(key, new SortedRange(null, null, 1000));
            Assert.Equal(100, newest!.Length);
            Assert.Equal(id, newest[0]);
            Assert.Equal(id - 99, newest[^1]);
        }
        Assert.Equal(new long[] { 301, 302 }, await Cache.SortedRangeAsync(key, new SortedRange(null, 0, 2, Ascending: true)));
        Assert.Equal(new long[] { 302, 301 }, await Cache.SortedRangeAsync(key, new SortedRange(303, null, 5)));
    }

    [Fact]
    public async Task Concurrent_increments_are_not_lost()
    {
        var key = Key();
        await Cache.AddCountersAsync([new(key, 0)]);
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => Cache.IncrementIfPresentAsync(key, 1).AsTask()));
        Assert.Equal(1000, await Cache.GetCounterAsync(key));
    }

    [Fact]
    public async Task A_sorted_set_is_created_only_by_replace()
    {
        var key = Key();
        Assert.False(await Cache.SortedAddIfPresentAsync(key, new long[] { 5 }, 10));
        Assert.Null(await Cache.SortedRangeAsync(key, new SortedRange(null, null, 10)));
        await Cache.SortedReplaceAsync(key, Array.Empty<long>(), 10);
        Assert.Equal(Array.Empty<long>(), await Cache.SortedRangeAsync(key, new SortedRange(null, null, 10)));
        Assert.True(await Cache.SortedAddIfPresentAsync(key, new long[] { 5, 3 }, 10));
        Assert.Equal(new long[] { 5, 3 }, await Cache.SortedRangeAsync(key, new SortedRange(null, null, 10)));
    }

    [Fact]
    public async Task A_sorted_set_keeps_the_largest_ids_up_to_its_cap_without_duplicates()
    {
        var key = Key();
        await Cache.SortedReplaceAsync(key, new long[] { 9, 1, 5, 5, 7, 3 }, 4);
        Assert.Equal(new long[] { 9, 7, 5, 3 }, await Cache.SortedRangeAsync(key, new SortedRange(null, null, 100)));
        await Cache.SortedAddIfPresentAsync(key, new long[] { 8, 9, 2 }, 4);
        Assert.Equal(new long[] { 9, 8, 7, 5 }, await Cache.SortedRangeAsync(key, new SortedRange(null, null, 100)));
        await Cache.SortedRemoveAsync(key, new long[] { 8, 100 });
        Assert.Equal(new long[] { 9, 7, 5 }, await Cache.SortedRangeAsync(key, new SortedRange(null, null, 100)));
    }

    [Fact]
    public async Task Sorted_ranges_page_like_mastodon_cursors()
    {
        var key = Key();
        await Cache.SortedReplaceAsync(key, Enumerable.Range(1, 10).Select(i => (long)i).ToArray(), 100);
        // max_id: strictly below, newest first.
        Assert.Equal(new long[] { 6, 5, 4 }, await Cache.SortedRangeAsync(key, new SortedRange(7, null, 3)));
        // since_id: strictly above, the newest of them.
        Assert.Equal(new long[] { 10, 9, 8 }, await Cache.SortedRangeAsync(key, new SortedRange(null, 2, 3)));
        // min_id: strictly above, the ones immediately after it, ascending.
        Assert.Equal(new long[] { 3, 4, 5 }, await Cache.SortedRangeAsync(key, new SortedRange(null, 2, 3, Ascending: true)));
        // both bounds.
        Assert.Equal(new long[] { 6, 5, 4, 3 }, await Cache.SortedRangeAsync(key, new SortedRange(7, 2, 10)));
        Assert.Equal(Array.Empty<long>(), await Cache.SortedRangeAsync(key, new SortedRange(3, 2, 10)));
    }

    [Fact]
    public async Task One_id_fans_out_to_the_cached_sets_only()
    {
        var (a, b, missing) = (Key(), Key(), Key());
        await Cache.SortedReplaceAsync(a, new long[] { 1, 2 }, 2);
        await Cache.SortedReplaceAsync(b, Array.Empty<long>(), 2);
        Assert.Equal(2, await Cache.SortedAddToManyIfPresentAsync([a, b, missing], 9, 2));
        Assert.Equal(2, await Cache.SortedAddToManyIfPresentAsync([a, b, missing], 9, 2)); // again: no duplicate
        Assert.Equal(new long[] { 9, 2 }, await Cache.SortedRangeAsync(a, new SortedRange(null, null, 10)));
        Assert.Equal(new long[] { 9 }, await Cache.SortedRangeAsync(b, new SortedRange(null, null, 10)));
        Assert.Null(await Cache.SortedRangeAsync(missing, new SortedRange(null, null, 10)));
        await Cache.SortedRemoveFromManyAsync([a, b, missing], 9);
        Assert.Equal(new long[] { 2 }, await Cache.SortedRangeAsync(a, new SortedRange(null, null, 10)));
        Assert.Null(await Cache.SortedRangeAsync(missing, new SortedRange(null, null, 10)));
    }

    [Fact]
    public async Task Clear_drops_every_kind_of_key()
    {
        var (a, b, c) = (Key(), Key(), Key());
        await Cache.SetAsync(a, new byte[] { 1 });
        await Cache.AddCountersAsync([new(b, 1)]);
        await Cache.SortedReplaceAsync(c, new long[] { 1 }, 10);
        await Cache.ClearAsync();
        Assert.Null(await GetAsync(a));
        Assert.Null(await Cache.GetCounterAsync(b));
        Assert.Null(await Cache.SortedRangeAsync(c, new SortedRange(null, null, 10)));
    }

    [Fact]
    public async Task Another_process_sees_the_entries_exactly_when_the_cache_is_shared()
    {
        var other = await AnotherAsync();
        Assert.Equal(Cache.SharedAcrossProcesses, other.SharedAcrossProcesses);
        var (key, counter) = (Key(), Key());
        await Cache.SetAsync(key, "mine"u8.ToArray());
        await Cache.AddCountersAsync([new(counter, 3)]);
        var seen = (await other.GetManyAsync([key]))[0];
        if (Cache.SharedAcrossProcesses)
        {
            Assert.Equal("mine"u8.ToArray(), seen);
            Assert.Equal(4, await other.IncrementIfPresentAsync(counter, 1));
            Assert.Equal(4, await Cache.GetCounterAsync(counter));
        }
        else
        {
            Assert.Null(seen);
            Assert.Null(await other.IncrementIfPresentAsync(counter, 1));
            Assert.Equal(3, await Cache.GetCounterAsync(counter));
        }
    }

    protected virtual Task AdvanceAsync(TimeSpan by) => Task.Delay(by);
}

public sealed class MemoryCacheContractTests : CacheContractTests
{
    protected override Task<(ICache Port, Func<ValueTask> Release)> CreateAsync() =>
        Task.FromResult<(ICache, Func<ValueTask>)>((new MemoryCache(64L * 1024 * 1024), () => ValueTask.CompletedTask));
}

/// <summary>The contract on Redis; every adapter of a test shares its key prefix, as a deployment's processes share a cache.</summary>
public abstract class RedisCacheContractTestsBase(Func<string> configuration) : CacheContractTests
{
    private readonly string _prefix = Infrastructure.Redis.NewPrefix();

    /// <summary>
    /// A FLUSHALL (here: every key of the test's prefix deleted behind the cache's back) wipes the marks that keep a
    /// reader's stale fill out; so after it no fill is taken until the gate opens again some seconds later, while plain
    /// writes (the marks themselves) go on.
    /// </summary>
    [Fact]
    public async Task An_emptied_redis_takes_no_fill_until_its_gate_reopens_and_plain_writes_go_on()
    {
        var (before, during, counter, mark, after) = (Key(), Key(), Key(), Key(), Key());
        await Cache.AddManyAsync([new(before, [1])]);
        Assert.Equal(new byte[] { 1 }, await GetAsync(before));

        await EmptyAsync();
        var emptied = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(await GetAsync(before));
        await Cache.AddManyAsync([new(during, [2])]);
        await Cache.AddCountersAsync([new(counter, 5)]);
        Assert.Null(await GetAsync(during));
        Assert.Null(await Cache.GetCounterAsync(counter));
        await Cache.SetAsync(mark, new byte[] { 3 });
        Assert.Equal(new byte[] { 3 }, await GetAsync(mark));

        await Infrastructure.Eventually.WaitAsync(async () =>
        {
            await Cache.AddManyAsync([new(after, [4])]);
            return await GetAsync(after);
        }, v => v is not null, TimeSpan.FromSeconds(15), "fills to be taken again");
        Assert.True(emptied.Elapsed >= TimeSpan.FromSeconds(1.9), $"fills were taken again {emptied.Elapsed.TotalMilliseconds:F0} ms after the wipe");
        await Cache.AddCountersAsync([new(counter, 5)]);
        Assert.Equal(5, await Cache.GetCounterAsync(counter));
    }

    /// <summary>Deletes every key of this test's prefix on every primary, as FLUSHALL would.</summary>
    private async Task EmptyAsync()
    {
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(configuration() + ",allowAdmin=true");
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica)
                continue;
            await foreach (var key in server.KeysAsync(pattern: _prefix + "*"))
                await redis.GetDatabase().KeyDeleteAsync(key);
        }
    }

    protected override Task<(ICache Port, Func<ValueTask> Release)> CreateAsync()
    {
        var cache = Infrastructure.Redis.Connect(configuration(), _prefix);
        return Task.FromResult<(ICache, Func<ValueTask>)>((cache, async () =>
        {
            await cache.ClearAsync();
            cache.Dispose();
        }));
    }
}

/// <summary>The contract on one Redis server.</summary>
public sealed class RedisCacheContractTests() : RedisCacheContractTestsBase(() => Infrastructure.Redis.Single);

/// <summary>The contract on a three-master Redis Cluster: no operation may span two hash slots.</summary>
public sealed class RedisClusterCacheContractTests() : RedisCacheContractTestsBase(() => Infrastructure.Redis.Cluster);
