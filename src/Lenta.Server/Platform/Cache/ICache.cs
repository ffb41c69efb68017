namespace Lenta.Server.Platform.Cache;

/// <summary>A value with the version of the row it was made from (see <see cref="ICache.SetManyIfNewerAsync"/>).</summary>
public readonly record struct VersionedValue(string Key, byte[] Value, long Version);

/// <summary>
/// The memory cache port (publications, likes, posts). A cache, never the truth: any key may vanish at any
/// time (eviction, restart, a wipe) and callers rebuild it from the database. A key holds one kind of value:
/// bytes, a counter, or a sorted set of 64-bit ids (timelines), and is used only with that kind's methods.
/// </summary>
public interface ICache
{
    /// <summary>One round trip for many keys; the result has one slot per key, null where missing.</summary>
    ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken ct = default);

    /// <summary>
    /// <see cref="GetManyAsync"/> with each value decoded by <paramref name="decode"/> (null where missing). The in-process
    /// cache keeps the decoded object with its entry and hands the same instance out until the entry is written again,
    /// so the bytes are neither copied nor decoded on every read; callers must treat what they get as immutable. A
    /// remote cache decodes what it fetched (and may keep a memo keyed by the bytes). A key read this way is read this
    /// way only: the in-process cache then drops the entry's bytes, so a raw <see cref="GetManyAsync"/> of it misses.
    /// </summary>
    ValueTask<T?[]> GetManyDecodedAsync<T>(IReadOnlyList<string> keys, Func<byte[], T> decode, CancellationToken ct = default) where T : class;

    /// <summary>
    /// <see cref="GetManyDecodedAsync{T}(IReadOnlyList{string}, Func{byte[], T}, CancellationToken)"/> for the keys
    /// <c>{prefix}{id}</c> (the id in invariant decimal digits), one slot per id: the same entries, named without
    /// building their key strings (the in-process cache formats each key on the stack).
    /// </summary>
    ValueTask<T?[]> GetManyDecodedAsync<T>(string prefix, IReadOnlyList<long> ids, Func<byte[], T> decode, CancellationToken ct = default) where T : class;

    ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default);

    /// <summary>Stores the value only when the key is absent; false when something (a value or a tombstone) is already there.</summary>
    ValueTask<bool> AddAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default);

    /// <summary>
    /// <see cref="AddAsync"/> of a value whose decoded form the caller holds already (a post it just wrote): the
    /// in-process cache keeps <paramref name="decoded"/> as what <see cref="GetManyDecodedAsync{T}(IReadOnlyList{string}, Func{byte[], T}, CancellationToken)"/>
    /// hands out for the key — the same instance, with whatever renderings the caller gives it later — instead of
    /// decoding the bytes on the first read; a remote cache stores the bytes. The key is read decoded only.
    /// </summary>
    ValueTask<bool> AddDecodedAsync(string key, ReadOnlyMemory<byte> value, object decoded, TimeSpan? ttl = null, CancellationToken ct = default) =>
        AddAsync(key, value, ttl, ct);

    /// <summary><see cref="AddAsync"/> for many keys in one round trip (filling a page of misses).</summary>
    ValueTask AddManyAsync(IReadOnlyList<KeyValuePair<string, byte[]>> items, TimeSpan? ttl = null, CancellationToken ct = default);

    /// <summary>
    /// Stores each value unless its key already holds one with the same or a newer <c>Version</c> (a row's version
    /// column), in one round trip. Readers filling misses and writers refreshing after a commit may race in any order:
    /// the newest row stays, so no tombstone is needed.
    /// </summary>
    ValueTask SetManyIfNewerAsync(IReadOnlyList<VersionedValue> items, TimeSpan? ttl = null, CancellationToken ct = default);

    ValueTask<bool> RemoveAsync(string key, CancellationToken ct = default);

    /// <summary>Adds <paramref name="delta"/> to an existing counter and returns the new value; null (and nothing stored) when the counter is not cached, so a partial count is never created.</summary>
    ValueTask<long?> IncrementIfPresentAsync(string key, long delta, CancellationToken ct = default);

    /// <summary>Adds <paramref name="delta"/> to a counter, creating it at <paramref name="delta"/> with <paramref name="ttl"/> when missing (rate windows, throttles). The expiry is set only at creation.</summary>
    ValueTask<long> IncrementAsync(string key, long delta, TimeSpan ttl, CancellationToken ct = default);

    ValueTask<long?> GetCounterAsync(string key, CancellationToken ct = default);

    /// <summary>The counters <c>{prefix}{id}</c> in one round trip, one slot per id, null where not cached; the keys named as <see cref="GetManyDecodedAsync{T}(string, IReadOnlyList{long}, Func{byte[], T}, CancellationToken)"/> names them.</summary>
    ValueTask<long?[]> GetCountersAsync(string prefix, IReadOnlyList<long> ids, CancellationToken ct = default);

    /// <summary>Sets each counter only where none is cached (filling misses without undoing increments made meanwhile), in one round trip.</summary>
    ValueTask AddCountersAsync(IReadOnlyList<KeyValuePair<string, long>> items, TimeSpan? ttl = null, CancellationToken ct = default);

    /// <summary>Replaces the whole set (a rebuild), keeping only the <paramref name="cap"/> largest ids. An empty set still exists.</summary>
    ValueTask SortedReplaceAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default);

    /// <summary>Adds ids to a set that is cached, trimming it to the <paramref name="cap"/> largest; returns false and stores nothing when the set is not cached (it is rebuilt whole on read).</summary>
    ValueTask<bool> SortedAddIfPresentAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default);

    ValueTask SortedRemoveAsync(string key, ReadOnlyMemory<long> ids, CancellationToken ct = default);

    /// <summary>Fan-out: adds one id to every cached set among <paramref name="keys"/> (trimming each to <paramref name="cap"/>) in one round trip; returns how many sets took it.</summary>
    ValueTask<int> SortedAddToManyIfPresentAsync(IReadOnlyList<string> keys, long id, int cap, CancellationToken ct = default);

    /// <summary>Removes one id from every set among <paramref name="keys"/> in one round trip.</summary>
    ValueTask SortedRemoveFromManyAsync(IReadOnlyList<string> keys, long id, CancellationToken ct = default);

    /// <summary>Ids strictly between the bounds: newest first, or, with <see cref="SortedRange.Ascending"/>, the <c>Limit</c> right above <c>MinExclusive</c> in ascending order. Null when the set is not cached.</summary>
    ValueTask<long[]?> SortedRangeAsync(string key, SortedRange range, CancellationToken ct = default);

    /// <summary>
    /// Whether what is cached outlives this process (a shared cache server) or dies with it (the in-process cache). Work
    /// whose only effect is on the cache needs no durable job when it dies with the process: a crash loses the work and
    /// everything it would have changed together (see <see cref="Jobs.IJobQueue.EnqueueInProcessAsync"/>).
    /// </summary>
    bool OutlivesProcess => true;

    /// <summary>
    /// Whether other processes (the server's other nodes) read and write the same entries, or this process alone does (the
    /// in-process cache). A time one process stamps into a shared cache is compared with another process's clock, so such
    /// a comparison needs a slack for the skew between machines' clocks; a cache this process alone writes sees one clock.
    /// </summary>
    bool SharedAcrossProcesses { get; }

    /// <summary>Drops everything (tests and the cache-wipe drill).</summary>
    ValueTask ClearAsync(CancellationToken ct = default);

    Task PingAsync(CancellationToken ct);
}

public readonly record struct SortedRange(long? MaxExclusive, long? MinExclusive, int Limit, bool Ascending = false);
