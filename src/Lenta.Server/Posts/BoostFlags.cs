using Dapper;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Posts;

/// <summary>
/// Each viewer's <c>reblogged</c> flag of a post, cached as the like flags are (<c>rv:{viewer}:{post}</c>, "1" or "0"),
/// so a page of boosted posts costs no query once its flags are known. A miss is read from the database (one indexed
/// query for a page's unknown flags) and filled with add-if-absent. A boost or its removal marks its flag changed after
/// its commit, before the caller hears back: a reader that read the database before the commit cannot fill the old
/// answer (its add finds the mark), and while the mark lives (<see cref="ChangedFor"/>) that viewer's flag is read from
/// the database.
/// </summary>
public sealed class BoostFlags(ICache cache, IDatabase db)
{
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private static readonly TimeSpan ChangedFor = TimeSpan.FromSeconds(10);
    private static readonly byte[] Yes = "1"u8.ToArray();
    private static readonly byte[] No = "0"u8.ToArray();
    private static readonly byte[] Changed = "~"u8.ToArray();

    private static string Key(long viewer, long original) => $"rv:{viewer}:{original}";

    /// <summary>Which of <paramref name="originals"/> <paramref name="viewer"/> boosted: cached flags, and one query on the (account, original) index for the rest.</summary>
    public async Task<IReadOnlySet<long>> RebloggedAsync(long viewer, IReadOnlyList<long> originals, CancellationToken ct)
    {
        var result = new HashSet<long>();
        if (originals.Count == 0)
            return result;
        var flags = await cache.GetManyAsync(originals.Select(id => Key(viewer, id)).ToList(), ct);
        List<long>? unknown = null;
        HashSet<long>? changed = null;
        for (var i = 0; i < originals.Count; i++)
        {
            var f = flags[i];
            if (f is null || f.AsSpan().SequenceEqual(Changed))
            {
                (unknown ??= []).Add(originals[i]);
                if (f is not null)
                    (changed ??= []).Add(originals[i]);
            }
            else if (f.AsSpan().SequenceEqual(Yes))
                result.Add(originals[i]);
        }
        if (unknown is null)
            return result;
        var boosted = await db.ReadAsync(async c => (await c.QueryAsync<long>(new CommandDefinition(
            $"SELECT reblog_of_id FROM statuses WHERE account_id = @viewer AND reblog_of_id {Sql.In(db.Provider, "@unknown")}",
            new { viewer, unknown = Sql.List(db.Provider, unknown) }, cancellationToken: ct))).ToHashSet(), ct);
        result.UnionWith(boosted);
        var fill = unknown.Where(id => changed is null || !changed.Contains(id)).Select(id => new KeyValuePair<string, byte[]>(Key(viewer, id), boosted.Contains(id) ? Yes : No)).ToList();
        if (fill.Count > 0)
            await cache.AddManyAsync(fill, Keep, ct);
        return result;
    }

    /// <summary>In the write that added or removed <paramref name="booster"/>'s boost of <paramref name="original"/>: marks the flag changed after the commit.</summary>
    public void ChangedAfterCommit(DbWrite w, long booster, long original) =>
        w.AfterCommit(() => cache.SetAsync(Key(booster, original), Changed, ChangedFor).AsTask());
}
