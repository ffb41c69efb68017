namespace Lenta.Server.Platform.Cache;

/// <summary>
/// A yes/no fact per viewer and item (liked, boosted), cached as <c>{prefix}{viewer}:{item}</c> = "1" or "0". A miss is
/// answered by the caller's query for a page's unknown items at once and filled with add-if-absent. A change of the
/// fact marks its key changed (<c>~</c>, <see cref="ChangedFor"/>) after its commit, before the caller hears back: a
/// reader that read the database before the commit cannot fill the old answer (its add finds the mark), and while the
/// mark lives that viewer's fact is read from the database.
/// </summary>
public sealed class ViewerFlags(string prefix)
{
    public static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    public static readonly TimeSpan ChangedFor = TimeSpan.FromSeconds(10);
    private static readonly byte[] Yes = "1"u8.ToArray();
    private static readonly byte[] No = "0"u8.ToArray();
    private static readonly byte[] Changed = "~"u8.ToArray();

    private string Key(long viewer, long item) => $"{prefix}{viewer}:{item}";

    /// <summary>Which of <paramref name="items"/> hold for <paramref name="viewer"/>: cached flags, and <paramref name="load"/> (one query) for the rest.</summary>
    public async Task<HashSet<long>> ReadAsync(ICache cache, long viewer, IReadOnlyList<long> items, Func<List<long>, Task<HashSet<long>>> load, CancellationToken ct)
    {
        var result = new HashSet<long>();
        if (items.Count == 0)
            return result;
        var flags = await cache.GetManyAsync(items.Select(id => Key(viewer, id)).ToList(), ct);
        List<long>? unknown = null;
        HashSet<long>? changed = null;
        for (var i = 0; i < items.Count; i++)
        {
            var f = flags[i];
            if (f is null || f.AsSpan().SequenceEqual(Changed))
            {
                (unknown ??= []).Add(items[i]);
                if (f is not null)
                    (changed ??= []).Add(items[i]);
            }
            else if (f.AsSpan().SequenceEqual(Yes))
                result.Add(items[i]);
        }
        if (unknown is null)
            return result;
        var loaded = await load(unknown);
        result.UnionWith(loaded);
        var fill = unknown.Where(id => changed is null || !changed.Contains(id)).Select(id => new KeyValuePair<string, byte[]>(Key(viewer, id), loaded.Contains(id) ? Yes : No)).ToList();
        if (fill.Count > 0)
            await cache.AddManyAsync(fill, Keep, ct);
        return result;
    }

    /// <summary>The fact changed (its commit is done): readers ask the database for <see cref="ChangedFor"/>.</summary>
    public Task MarkChangedAsync(ICache cache, long viewer, long item) => cache.SetAsync(Key(viewer, item), Changed, ChangedFor).AsTask();

    /// <summary>A fact known not to hold (a new post, not liked by its author), cached unless something is there.</summary>
    public Task AddNoAsync(ICache cache, long viewer, long item) => cache.AddManyAsync([new(Key(viewer, item), No)], Keep).AsTask();
}
