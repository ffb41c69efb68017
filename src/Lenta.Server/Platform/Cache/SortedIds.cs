namespace Lenta.Server.Platform.Cache;

/// <summary>
/// A cached sorted set of ids (a timeline) as <see cref="MemoryCache"/> holds it: a <see cref="List{T}"/> in ascending
/// order, without duplicates, of which only the <c>cap</c> largest are in the set. Ids below those await a trim: a set
/// over its cap by less than an eighth (at least 16) is trimmed only when it passes that, because a feed at its cap that
/// gains an id would otherwise move all its ids down one place on every push (a 6 KB copy for an 800-id feed, per
/// follower). Reads and removals see only the <c>cap</c> largest.
/// </summary>
internal static class SortedIds
{
    /// <summary>A new set of <paramref name="ids"/> (any order, duplicates allowed), holding only the <paramref name="cap"/> largest.</summary>
    public static List<long> Create(ReadOnlySpan<long> ids, int cap)
    {
        var set = new List<long>(ids.Length);
        set.AddRange(ids);
        set.Sort();
        Dedupe(set);
        Trim(set, cap, cap);
        return set;
    }

    /// <summary>Adds the ids not in the set yet, trimming it to its <paramref name="cap"/> largest once it is far enough past.</summary>
    public static void Add(List<long> set, ReadOnlySpan<long> ids, int cap)
    {
        foreach (var id in ids)
        {
            var at = set.BinarySearch(id);
            if (at < 0)
                set.Insert(~at, id);
        }
        Trim(set, cap, cap + Math.Max(16, cap / 8));
    }

    public static void Remove(List<long> set, int cap, ReadOnlySpan<long> ids)
    {
        Trim(set, cap, cap); // ids past the cap first, or a removal would bring them back into view
        foreach (var id in ids)
        {
            var at = set.BinarySearch(id);
            if (at >= 0)
                set.RemoveAt(at);
        }
    }

    /// <summary>The ids of the set (its <paramref name="cap"/> largest) within <paramref name="range"/>, as <see cref="ICache.SortedRangeAsync"/> answers them.</summary>
    public static long[] Slice(List<long> set, int cap, SortedRange range)
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
}
