using System.Globalization;

namespace Lenta.Server.Platform.Cache;

/// <summary>
/// The in-process cache: 64 shards, each a dictionary plus an eviction list under its own lock, with an estimated
/// byte budget per shard. Writing past the budget evicts keys not read lately, by second chance (CLOCK): a read only
/// marks its entry, and eviction moves a marked entry from the list's tail back to its head, unmarked, instead of
/// dropping it — so a read writes one field of the entry it already loaded rather than relinking its list node (three
/// more nodes' cache lines, on every read). A value larger than a shard's budget is not stored at all (a miss, as if
/// evicted at once). Batch reads by prefix and ids format each key into a stack buffer and look it up through the
/// dictionary's span lookup, so a page's ~60 reads allocate no key strings.
/// </summary>
public sealed class MemoryCache : ICache
{
    private const int ShardCount = 64;
    private readonly MemoryCacheShard[] _shards;
    private readonly TimeProvider _time;

    public MemoryCache(long maxBytes, TimeProvider? time = null)
        : this(maxBytes, GarbageMeter.For(maxBytes), time)
    {
    }

    internal MemoryCache(long maxBytes, GarbageMeter garbage, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _shards = new MemoryCacheShard[ShardCount];
        for (var i = 0; i < ShardCount; i++)
            _shards[i] = new MemoryCacheShard(maxBytes / ShardCount, garbage);
    }

    /// <summary>Everything here lives in this process's memory: a crash or a restart starts it empty.</summary>
    public bool OutlivesProcess => false;

    /// <summary>Only this process writes it, stamping times with this process's clock.</summary>
    public bool SharedAcrossProcesses => false;

    /// <summary>Bytes currently accounted for, across shards.</summary>
    public long SizeBytes => _shards.Sum(s => s.Size);

    public long Count => _shards.Sum(s => s.Count);

    private MemoryCacheShard ShardOf(ReadOnlySpan<char> key) => _shards[(uint)string.GetHashCode(key) % ShardCount];

    /// <summary>The key <c>{prefix}{id}</c> written into <paramref name="buffer"/> (at least <see cref="KeyLength"/> long).</summary>
    private static ReadOnlySpan<char> FormatKey(Span<char> buffer, string prefix, long id)
    {
        prefix.CopyTo(buffer);
        id.TryFormat(buffer[prefix.Length..], out var digits, default, CultureInfo.InvariantCulture);
        return buffer[..(prefix.Length + digits)];
    }

    private static int KeyLength(string prefix) => prefix.Length + 20;

    private const int StackKeyLength = 256;

    private long Now => _time.GetUtcNow().UtcTicks;

    private long ExpiryOf(TimeSpan? ttl) => ttl is { } t ? Now + t.Ticks : long.MaxValue;

    public ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        var result = new byte[]?[keys.Count];
        var now = Now;
        for (var i = 0; i < keys.Count; i++)
            result[i] = ShardOf(keys[i]).ReadBytes(keys[i], now);
        return ValueTask.FromResult(result);
    }

    public ValueTask<T?[]> GetManyDecodedAsync<T>(IReadOnlyList<string> keys, Func<byte[], T> decode, CancellationToken ct = default) where T : class
    {
        var result = new T?[keys.Count];
        var now = Now;
        for (var i = 0; i < keys.Count; i++)
            result[i] = ShardOf(keys[i]).ReadDecoded(keys[i], now, decode);
        return ValueTask.FromResult(result);
    }

    public ValueTask<T?[]> GetManyDecodedAsync<T>(string prefix, IReadOnlyList<long> ids, Func<byte[], T> decode, CancellationToken ct = default) where T : class
    {
        var result = new T?[ids.Count];
        var now = Now;
        Span<char> buffer = KeyLength(prefix) <= StackKeyLength ? stackalloc char[StackKeyLength] : new char[KeyLength(prefix)];
        for (var i = 0; i < ids.Count; i++)
        {
            var key = FormatKey(buffer, prefix, ids[i]);
            result[i] = ShardOf(key).ReadDecoded(key, now, decode);
        }
        return ValueTask.FromResult(result);
    }

    public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        ShardOf(key).Put(key, new MemoryCacheEntry { Bytes = value.ToArray(), ExpiresAt = ExpiryOf(ttl) });
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> AddAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var copy = value.ToArray();
        return ValueTask.FromResult(ShardOf(key).Upsert(key, Now, _ => false, () => new MemoryCacheEntry { Bytes = copy, ExpiresAt = ExpiryOf(ttl) }, true));
    }

    public ValueTask<bool> AddDecodedAsync(string key, ReadOnlyMemory<byte> value, object decoded, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        // Stored as a decoded entry (no bytes kept), as the first decoded read would have left it.
        var size = value.Length;
        return ValueTask.FromResult(ShardOf(key).Upsert(key, Now, _ => false, () => new MemoryCacheEntry { Decoded = decoded, DecodedFrom = size, ExpiresAt = ExpiryOf(ttl) }, true));
    }

    public ValueTask AddManyAsync(IReadOnlyList<KeyValuePair<string, byte[]>> items, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var now = Now;
        foreach (var (key, value) in items)
        {
            var copy = value.AsSpan().ToArray();
            ShardOf(key).Upsert(key, now, _ => false, () => new MemoryCacheEntry { Bytes = copy, ExpiresAt = ExpiryOf(ttl) }, true);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask SetManyIfNewerAsync(IReadOnlyList<VersionedValue> items, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var now = Now;
        foreach (var item in items)
        {
            var copy = item.Value.AsSpan().ToArray();
            ShardOf(item.Key).PutIfNewer(item.Key, now, new MemoryCacheEntry { Bytes = copy, Version = item.Version, ExpiresAt = ExpiryOf(ttl) });
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RemoveAsync(string key, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).Remove(key));

    public ValueTask<long?> IncrementIfPresentAsync(string key, long delta, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).Update(key, Now, e =>
        {
            if (e.Counter is not { } c)
                return (long?)null;
            e.Counter = c + delta;
            return e.Counter;
        }));

    public ValueTask<long> IncrementAsync(string key, long delta, TimeSpan ttl, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).Upsert(key, Now, e =>
        {
            e.Counter = (e.Counter ?? 0) + delta;
            return e.Counter.Value;
        }, () => new MemoryCacheEntry { Counter = delta, ExpiresAt = ExpiryOf(ttl) }, delta));

    public ValueTask<long?> GetCounterAsync(string key, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).ReadCounter(key, Now));

    public ValueTask<long?[]> GetCountersAsync(string prefix, IReadOnlyList<long> ids, CancellationToken ct = default)
    {
        var now = Now;
        var result = new long?[ids.Count];
        Span<char> buffer = KeyLength(prefix) <= StackKeyLength ? stackalloc char[StackKeyLength] : new char[KeyLength(prefix)];
        for (var i = 0; i < ids.Count; i++)
        {
            var key = FormatKey(buffer, prefix, ids[i]);
            result[i] = ShardOf(key).ReadCounter(key, now);
        }
        return ValueTask.FromResult(result);
    }

    public ValueTask AddCountersAsync(IReadOnlyList<KeyValuePair<string, long>> items, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var now = Now;
        foreach (var (key, value) in items)
            ShardOf(key).Upsert(key, now, _ => false, () => new MemoryCacheEntry { Counter = value, ExpiresAt = ExpiryOf(ttl) }, true);
        return ValueTask.CompletedTask;
    }

    public ValueTask SortedReplaceAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default)
    {
        cap = Math.Max(0, cap);
        ShardOf(key).Put(key, new MemoryCacheEntry { Sorted = SortedIds.Create(ids.Span, cap), SortedCap = cap, ExpiresAt = long.MaxValue });
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> SortedAddIfPresentAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).Update(key, Now, e => AddSorted(e, ids.Span, cap)));

    /// <summary>Adds ids to the entry's set if it holds one, which from now on holds the <paramref name="cap"/> largest (see <see cref="SortedIds"/>).</summary>
    private static bool AddSorted(MemoryCacheEntry e, ReadOnlySpan<long> ids, int cap)
    {
        if (e.Sorted is not { } set)
            return false;
        cap = Math.Max(0, cap);
        e.SortedCap = cap;
        SortedIds.Add(set, ids, cap);
        return true;
    }

    public ValueTask SortedRemoveAsync(string key, ReadOnlyMemory<long> ids, CancellationToken ct = default)
    {
        var copy = ids.ToArray();
        ShardOf(key).Update(key, Now, e =>
        {
            if (e.Sorted is { } set)
                SortedIds.Remove(set, e.SortedCap, copy);
            return true;
        });
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> SortedAddToManyIfPresentAsync(IReadOnlyList<string> keys, long id, int cap, CancellationToken ct = default)
    {
        var added = 0;
        var now = Now;
        foreach (var key in keys)
        {
            if (ShardOf(key).Update(key, now, e => AddSorted(e, new ReadOnlySpan<long>(in id), cap)))
                added++;
        }
        return ValueTask.FromResult(added);
    }

    public async ValueTask SortedRemoveFromManyAsync(IReadOnlyList<string> keys, long id, CancellationToken ct = default)
    {
        var one = new[] { id };
        foreach (var key in keys)
            await SortedRemoveAsync(key, one, ct);
    }

    public ValueTask<long[]?> SortedRangeAsync(string key, SortedRange range, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).Read(key, Now, e => e.Sorted is { } set ? SortedIds.Slice(set, e.SortedCap, range) : null));

    public ValueTask ClearAsync(CancellationToken ct = default)
    {
        foreach (var shard in _shards)
            shard.Clear();
        return ValueTask.CompletedTask;
    }

    public Task PingAsync(CancellationToken ct) => Task.CompletedTask;
}
