namespace Lenta.Server.Platform.Cache;

/// <summary>
/// One of <see cref="MemoryCache"/>'s shards: a dictionary and an eviction list under one lock, within a byte budget
/// (see <see cref="Evict"/>). The cache spreads keys over many shards so that writers to different keys seldom wait
/// for the same lock.
/// </summary>
internal sealed class MemoryCacheShard
{
    private readonly long _budget;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, MemoryCacheEntry> _map;
    private readonly Dictionary<string, MemoryCacheEntry>.AlternateLookup<ReadOnlySpan<char>> _byChars;
    private readonly LinkedList<MemoryCacheEntry> _clock = new();
    private readonly GarbageMeter _garbage;

    public MemoryCacheShard(long budget, GarbageMeter garbage)
    {
        _budget = budget;
        _garbage = garbage;
        _map = new Dictionary<string, MemoryCacheEntry>(StringComparer.Ordinal);
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

    public T? Read<T>(ReadOnlySpan<char> key, long now, Func<MemoryCacheEntry, T?> read) where T : class
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
        MemoryCacheEntry? e;
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

    public T? Update<T>(string key, long now, Func<MemoryCacheEntry, T?> update)
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
    public T Upsert<T>(string key, long now, Func<MemoryCacheEntry, T> update, Func<MemoryCacheEntry> create, T created)
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

    public void Put(string key, MemoryCacheEntry entry)
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

    public void PutIfNewer(string key, long now, MemoryCacheEntry entry)
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

    private MemoryCacheEntry? Live(ReadOnlySpan<char> key, long now)
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

    private static void Touch(MemoryCacheEntry e) => e.Referenced = true;

    private void Resize(MemoryCacheEntry e)
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

    private void Drop(MemoryCacheEntry e)
    {
        _map.Remove(e.Key);
        if (e.Node is not null)
            _clock.Remove(e.Node);
        e.Node = null;
        Size -= e.Size;
        _garbage.Dropped(e.Size);
    }
}
