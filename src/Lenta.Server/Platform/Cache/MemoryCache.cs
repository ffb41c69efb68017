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
    /// <summary>
    /// What an entry costs beside its key's characters and its value's bytes: the entry object (~112 bytes), its list
    /// node (48), its dictionary slot and bucket (~40 with the table's slack), the key string's and the value array's
    /// headers (~20 and 24). Counted short (96, as before), a cache of small values — likes' flags and stamps, a few
    /// bytes each — took about twice its budget in real memory.
    /// </summary>
    private const int EntryOverhead = 240;
    private readonly Shard[] _shards;
    private readonly TimeProvider _time;

    public MemoryCache(long maxBytes, TimeProvider? time = null)
        : this(maxBytes, GarbageMeter.For(maxBytes), time)
    {
    }

    internal MemoryCache(long maxBytes, GarbageMeter garbage, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _shards = new Shard[ShardCount];
        for (var i = 0; i < ShardCount; i++)
            _shards[i] = new Shard(maxBytes / ShardCount, garbage);
    }

    /// <summary>Everything here lives in this process's memory: a crash or a restart starts it empty.</summary>
    public bool OutlivesProcess => false;

    /// <summary>Bytes currently accounted for, across shards.</summary>
    public long SizeBytes => _shards.Sum(s => s.Size);

    public long Count => _shards.Sum(s => s.Count);

    private Shard ShardOf(ReadOnlySpan<char> key) => _shards[(uint)string.GetHashCode(key) % ShardCount];

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

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).ReadBytes(key, Now));

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
        ShardOf(key).Put(key, new Entry { Bytes = value.ToArray(), ExpiresAt = ExpiryOf(ttl) });
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> AddAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var copy = value.ToArray();
        return ValueTask.FromResult(ShardOf(key).Upsert(key, Now, _ => false, () => new Entry { Bytes = copy, ExpiresAt = ExpiryOf(ttl) }, true));
    }

    public ValueTask<bool> AddDecodedAsync(string key, ReadOnlyMemory<byte> value, object decoded, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        // Stored as a decoded entry (no bytes kept), as the first decoded read would have left it.
        var size = value.Length;
        return ValueTask.FromResult(ShardOf(key).Upsert(key, Now, _ => false, () => new Entry { Decoded = decoded, DecodedFrom = size, ExpiresAt = ExpiryOf(ttl) }, true));
    }

    public ValueTask AddManyAsync(IReadOnlyList<KeyValuePair<string, byte[]>> items, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var now = Now;
        foreach (var (key, value) in items)
        {
            var copy = value.AsSpan().ToArray();
            ShardOf(key).Upsert(key, now, _ => false, () => new Entry { Bytes = copy, ExpiresAt = ExpiryOf(ttl) }, true);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask SetManyIfNewerAsync(IReadOnlyList<VersionedValue> items, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var now = Now;
        foreach (var item in items)
        {
            var copy = item.Value.AsSpan().ToArray();
            ShardOf(item.Key).PutIfNewer(item.Key, now, new Entry { Bytes = copy, Version = item.Version, ExpiresAt = ExpiryOf(ttl) });
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
        }, () => new Entry { Counter = delta, ExpiresAt = ExpiryOf(ttl) }, delta));

    public ValueTask<long?> GetCounterAsync(string key, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).ReadCounter(key, Now));

    public ValueTask<long?[]> GetCountersAsync(IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        var now = Now;
        var result = new long?[keys.Count];
        for (var i = 0; i < keys.Count; i++)
            result[i] = ShardOf(keys[i]).ReadCounter(keys[i], now);
        return ValueTask.FromResult(result);
    }

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
            ShardOf(key).Upsert(key, now, _ => false, () => new Entry { Counter = value, ExpiresAt = ExpiryOf(ttl) }, true);
        return ValueTask.CompletedTask;
    }

    public ValueTask SetCounterAsync(string key, long value, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        ShardOf(key).Put(key, new Entry { Counter = value, ExpiresAt = ExpiryOf(ttl) });
        return ValueTask.CompletedTask;
    }

    public ValueTask SortedReplaceAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default)
    {
        var set = new List<long>(ids.Length);
        set.AddRange(ids.Span);
        set.Sort();
        Dedupe(set);
        cap = Math.Max(0, cap);
        Trim(set, cap, cap);
        ShardOf(key).Put(key, new Entry { Sorted = set, SortedCap = cap, ExpiresAt = long.MaxValue });
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> SortedAddIfPresentAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default) =>
        ValueTask.FromResult(ShardOf(key).Update(key, Now, e => AddSorted(e, ids.Span, cap)));

    /// <summary>
    /// Adds ids to a cached set and trims it to its <paramref name="cap"/> largest. A set over its cap by less than an
    /// eighth (at least 16) is trimmed only when it passes that: a feed at its cap that gains an id would otherwise move
    /// all its ids down one place on every push (a 6 KB copy for an 800-id feed, per follower). Reads and removals see
    /// only the <see cref="Entry.SortedCap"/> largest.
    /// </summary>
    private static bool AddSorted(Entry e, ReadOnlySpan<long> ids, int cap)
    {
        if (e.Sorted is not { } set)
            return false;
        foreach (var id in ids)
        {
            var at = set.BinarySearch(id);
            if (at < 0)
                set.Insert(~at, id);
        }
        cap = Math.Max(0, cap);
        e.SortedCap = cap;
        Trim(set, cap, cap + Math.Max(16, cap / 8));
        return true;
    }

    public ValueTask SortedRemoveAsync(string key, ReadOnlyMemory<long> ids, CancellationToken ct = default)
    {
        var copy = ids.ToArray();
        ShardOf(key).Update(key, Now, e =>
        {
            if (e.Sorted is { } set)
            {
                Trim(set, e.SortedCap, e.SortedCap); // ids past the cap first, or a removal would bring them back into view
                foreach (var id in copy)
                {
                    var at = set.BinarySearch(id);
                    if (at >= 0)
                        set.RemoveAt(at);
                }
            }
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
        ValueTask.FromResult(ShardOf(key).Read(key, Now, e => e.Sorted is { } set ? Slice(set, e.SortedCap, range) : null));

    public ValueTask ClearAsync(CancellationToken ct = default)
    {
        foreach (var shard in _shards)
            shard.Clear();
        return ValueTask.CompletedTask;
    }

    public Task PingAsync(CancellationToken ct) => Task.CompletedTask;

    private static long[] Slice(List<long> set, int cap, SortedRange range)
    {
        var limit = Math.Max(0, range.Limit);
        var start = Math.Max(0, set.Count - cap); // ids below the cap's (awaiting their trim) are not in the set
        // Indexes of the first id above MinExclusive and the first id at or above MaxExclusive.
        var lo = Math.Max(start, range.MinExclusive is { } min ? UpperBound(set, min) : 0);
        var hi = Math.Max(start, range.MaxExclusive is { } max ? LowerBound(set, max) : set.Count);
        var available = Math.Max(0, hi - lo);
        var n = Math.Min(limit, available);
        var result = new long[n];
        if (range.Ascending)
        {
            for (var i = 0; i < n; i++)
                result[i] = set[lo + i];
        }
        else
        {
            for (var i = 0; i < n; i++)
                result[i] = set[hi - 1 - i];
        }
        return result;
    }

    private static int LowerBound(List<long> set, long value)
    {
        var at = set.BinarySearch(value);
        return at >= 0 ? at : ~at;
    }

    private static int UpperBound(List<long> set, long value)
    {
        var at = set.BinarySearch(value);
        return at >= 0 ? at + 1 : ~at;
    }

    private static void Dedupe(List<long> sorted)
    {
        var w = 0;
        for (var r = 0; r < sorted.Count; r++)
        {
            if (w == 0 || sorted[r] != sorted[w - 1])
                sorted[w++] = sorted[r];
        }
        sorted.RemoveRange(w, sorted.Count - w);
    }

    /// <summary>Keeps the <paramref name="cap"/> largest ids once the set holds more than <paramref name="over"/>.</summary>
    private static void Trim(List<long> sorted, int cap, int over)
    {
        if (sorted.Count > over)
            sorted.RemoveRange(0, sorted.Count - cap);
    }

    private sealed class Entry
    {
        public byte[]? Bytes;

        /// <summary>What <see cref="Bytes"/> decode to, kept for <see cref="GetManyDecodedAsync{T}"/>; goes with the entry.</summary>
        public object? Decoded;

        /// <summary>How many bytes <see cref="Decoded"/> was decoded from (the bytes themselves are dropped then).</summary>
        public int DecodedFrom;

        /// <summary>The row version of a value stored by <see cref="SetManyIfNewerAsync"/>; other writes leave it unversioned.</summary>
        public long? Version;
        public long? Counter;
        public List<long>? Sorted;

        /// <summary>How many of <see cref="Sorted"/>'s largest ids the set holds (the rest await a trim).</summary>
        public int SortedCap;
        public long ExpiresAt;
        public long Size;

        /// <summary>Read since eviction last passed it: it gets a second chance (see <see cref="Shard.Evict"/>).</summary>
        public bool Referenced;
        public string Key = "";
        public LinkedListNode<Entry>? Node;

        // A decoded value (whose bytes are dropped) is reckoned at three times the bytes it came from: its strings are
        // UTF-16, and a rendering (a post's JSON fragment) about the size of the bytes may hang off it.
        public long Measure() => EntryOverhead + Key.Length * 2L + (Decoded is null ? Bytes?.Length ?? 0 : DecodedFrom * 3L) + (Counter is null ? 0 : 8) + (Sorted?.Capacity ?? 0) * 8L;
    }

    private sealed class Shard
    {
        private readonly long _budget;
        private readonly Lock _gate = new();
        private readonly Dictionary<string, Entry> _map;
        private readonly Dictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _byChars;
        private readonly LinkedList<Entry> _clock = new();
        private readonly GarbageMeter _garbage;

        public Shard(long budget, GarbageMeter garbage)
        {
            _budget = budget;
            _garbage = garbage;
            _map = new Dictionary<string, Entry>(StringComparer.Ordinal);
            // Reads by a key formatted on the stack find the entry stored under the equal string.
            _byChars = _map.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public long Size { get; private set; }

        public int Count
        {
            get
            {
                lock (_gate)
                    return _map.Count;
            }
        }

        public T? Read<T>(ReadOnlySpan<char> key, long now, Func<Entry, T?> read) where T : class
        {
            lock (_gate)
            {
                var e = Live(key, now);
                if (e is null)
                    return null;
                Touch(e);
                return read(e);
            }
        }

        /// <summary>A copy of the entry's bytes: what a caller does with it must never reach the cache.</summary>
        public byte[]? ReadBytes(ReadOnlySpan<char> key, long now)
        {
            byte[]? bytes;
            lock (_gate)
            {
                var e = Live(key, now);
                if (e is null)
                    return null;
                Touch(e);
                bytes = e.Bytes;
            }
            // Copied outside the lock: a stored byte[] is never written in place (a write replaces the entry's array).
            return bytes?.AsSpan().ToArray();
        }

        public long? ReadCounter(ReadOnlySpan<char> key, long now)
        {
            lock (_gate)
            {
                var e = Live(key, now);
                if (e is null)
                    return null;
                Touch(e);
                return e.Counter;
            }
        }

        /// <summary>The decoded value of a bytes entry: the one kept with the entry, or decoded now (outside the lock) and kept if the entry is still the same.</summary>
        public T? ReadDecoded<T>(ReadOnlySpan<char> key, long now, Func<byte[], T> decode) where T : class
        {
            Entry? e;
            byte[]? bytes;
            lock (_gate)
            {
                e = Live(key, now);
                if (e is null)
                    return null;
                if (e.Decoded is T known)
                {
                    Touch(e);
                    return known;
                }
                if (e.Bytes is null)
                    return null;
                Touch(e);
                bytes = e.Bytes;
            }
            var decoded = decode(bytes);
            lock (_gate)
            {
                if (_byChars.TryGetValue(key, out var current) && ReferenceEquals(current, e) && ReferenceEquals(e.Bytes, bytes))
                {
                    // From now on the entry is its decoded object: the bytes go (a key is read one way, raw or decoded,
                    // so no raw reader needs them; one would see a miss).
                    e.Decoded = decoded;
                    e.DecodedFrom = bytes.Length;
                    e.Bytes = null;
                    Resize(e);
                }
            }
            return decoded;
        }

        public T? Update<T>(string key, long now, Func<Entry, T?> update)
        {
            lock (_gate)
            {
                var e = Live(key, now);
                if (e is null)
                    return default;
                var result = update(e);
                Touch(e);
                Resize(e);
                return result;
            }
        }

        /// <summary>Updates the live entry, or stores <paramref name="create"/>() when there is none; atomic under the shard lock.</summary>
        public T Upsert<T>(string key, long now, Func<Entry, T> update, Func<Entry> create, T created)
        {
            lock (_gate)
            {
                var e = Live(key, now);
                if (e is not null)
                {
                    var result = update(e);
                    Touch(e);
                    Resize(e);
                    return result;
                }
                var fresh = create();
                fresh.Key = key;
                fresh.Size = fresh.Measure();
                if (fresh.Size <= _budget)
                {
                    fresh.Node = _clock.AddFirst(fresh);
                    _map[key] = fresh;
                    Size += fresh.Size;
                    Evict();
                }
                return created;
            }
        }

        public void Put(string key, Entry entry)
        {
            entry.Key = key;
            lock (_gate)
            {
                if (_map.TryGetValue(key, out var old))
                    Drop(old);
                entry.Size = entry.Measure();
                if (entry.Size > _budget)
                    return;
                entry.Node = _clock.AddFirst(entry);
                _map[key] = entry;
                Size += entry.Size;
                Evict();
            }
        }

        public void PutIfNewer(string key, long now, Entry entry)
        {
            lock (_gate)
            {
                if (Live(key, now) is { Version: { } held } && held >= entry.Version)
                    return;
                Put(key, entry);
            }
        }

        public bool Remove(string key)
        {
            lock (_gate)
            {
                if (!_map.TryGetValue(key, out var e))
                    return false;
                Drop(e);
                return true;
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _map.Clear();
                _clock.Clear();
                Size = 0;
            }
        }

        private Entry? Live(ReadOnlySpan<char> key, long now)
        {
            if (!_byChars.TryGetValue(key, out var e))
                return null;
            if (e.ExpiresAt <= now)
            {
                Drop(e);
                return null;
            }
            return e;
        }

        private static void Touch(Entry e) => e.Referenced = true;

        private void Resize(Entry e)
        {
            var size = e.Measure();
            Size += size - e.Size;
            e.Size = size;
            Evict();
        }

        /// <summary>
        /// Drops entries from the tail until the shard is within budget; an entry read since it was written or last
        /// passed goes back to the head, unmarked. Ends: every pass either drops an entry or clears a mark, and no read
        /// can mark one meanwhile (the shard's lock is held).
        /// </summary>
        private void Evict()
        {
            while (Size > _budget && _clock.Last is { } last)
            {
                if (last.Value.Referenced)
                {
                    last.Value.Referenced = false;
                    _clock.RemoveLast();
                    _clock.AddFirst(last);
                }
                else
                {
                    Drop(last.Value);
                }
            }
        }

        private void Drop(Entry e)
        {
            _map.Remove(e.Key);
            if (e.Node is not null)
                _clock.Remove(e.Node);
            e.Node = null;
            Size -= e.Size;
            _garbage.Dropped(e.Size);
        }
    }

    /// <summary>
    /// Starts a background gen2 collection once the cache has let go of a quarter of its budget (evicted, replaced,
    /// removed; estimated bytes) since the last one. A cached value lives long enough to reach gen2, so what the cache
    /// drops is gen2 garbage; but the GC sizes gen2's allocation budget by how much of gen2 survives, which for a cache
    /// is nearly all of it, so on its own it let gen2 grow to twice the live data between collections (the Reed98 mix:
    /// 71 MB live, 163 MB before the next one) — resident memory holding posts the cache had dropped. A background
    /// collection marks beside the requests (two pauses of ~1 ms) and turns that space into free lists the next
    /// promotions fill, so gen2 grows far less. A small cache's drops wait for <see cref="Floor"/> at least.
    /// </summary>
    internal sealed class GarbageMeter(long threshold, Action collect)
    {
        public const long Floor = 16L * 1024 * 1024;

        private long _dropped;
        private int _queued;

        /// <param name="collect">what starts a collection; a background gen2 of the GC's unless a test observes it</param>
        public static GarbageMeter For(long maxBytes, Action? collect = null) => new(Math.Max(maxBytes / 4, Floor), collect ?? new Gen2().Collect);

        public void Dropped(long bytes)
        {
            if (Interlocked.Add(ref _dropped, bytes) < threshold || Interlocked.Exchange(ref _queued, 1) == 1)
                return;
            // Off the shard's lock and the writer's way: a collection starts with a (short) suspension of every thread.
            ThreadPool.UnsafeQueueUserWorkItem(static meter => meter.Run(), this, preferLocal: false);
        }

        private void Run()
        {
            Interlocked.Exchange(ref _dropped, 0);
            collect();
            Volatile.Write(ref _queued, 0);
        }

        private sealed class Gen2
        {
            private int _seen = GC.CollectionCount(2);

            public void Collect()
            {
                // A gen2 of the GC's own since the last one started here already took what was dropped before it. Where
                // concurrent GC is off (latency mode Batch) a forced gen2 would block every thread: the GC's own budget rules.
                if (GC.CollectionCount(2) == _seen && System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch)
                    GC.Collect(2, GCCollectionMode.Forced, blocking: false);
                _seen = GC.CollectionCount(2);
            }
        }
    }
}
