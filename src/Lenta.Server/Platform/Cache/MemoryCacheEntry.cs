namespace Lenta.Server.Platform.Cache;

/// <summary>
/// One key of <see cref="MemoryCache"/>: bytes (or the object they decode to), a counter or a sorted set of ids, with
/// what its shard needs to expire, measure and evict it.
/// </summary>
internal sealed class MemoryCacheEntry
{
    /// <summary>
    /// What an entry costs beside its key's characters and its value's bytes: the entry object (~112 bytes), its list
    /// node (48), its dictionary slot and bucket (~40 with the table's slack), the key string's and the value array's
    /// headers (~20 and 24). Counted short (96), a cache of small values — likes' flags and stamps, a few bytes each —
    /// took about twice its budget in real memory.
    /// </summary>
    private const int Overhead = 240;

    public byte[]? Bytes;

    /// <summary>What <see cref="Bytes"/> decode to, kept for <see cref="MemoryCache.GetManyDecodedAsync{T}(IReadOnlyList{string}, Func{byte[], T}, CancellationToken)"/>; goes with the entry.</summary>
    public object? Decoded;

    /// <summary>How many bytes <see cref="Decoded"/> was decoded from (the bytes themselves are dropped then).</summary>
    public int DecodedFrom;

    /// <summary>The row version of a value stored by <see cref="MemoryCache.SetManyIfNewerAsync"/>; other writes leave it unversioned.</summary>
    public long? Version;
    public long? Counter;
    public List<long>? Sorted;

    /// <summary>How many of <see cref="Sorted"/>'s largest ids the set holds (the rest await a trim).</summary>
    public int SortedCap;
    public long ExpiresAt;
    public long Size;

    /// <summary>Read since eviction last passed it: it gets a second chance (see <see cref="MemoryCacheShard"/>).</summary>
    public bool Referenced;
    public string Key = "";
    public LinkedListNode<MemoryCacheEntry>? Node;

    // A decoded value (whose bytes are dropped) is reckoned at three times the bytes it came from: its strings are
    // UTF-16, and a rendering (a post's JSON fragment) about the size of the bytes may hang off it.
    public long Measure() => Overhead + Key.Length * 2L + (Decoded is null ? Bytes?.Length ?? 0 : DecodedFrom * 3L) + (Counter is null ? 0 : 8) + (Sorted?.Capacity ?? 0) * 8L;
}
