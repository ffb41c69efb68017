using Dapper;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Posts;

/// <summary>
/// Each viewer's <c>reblogged</c> flag of a post, cached as the like flags are (<see cref="ViewerFlags"/>,
/// <c>rv:{viewer}:{post}</c>), so a page of boosted posts costs no query once its flags are known; a page's unknown flags
/// are one indexed query on <c>(account_id, reblog_of_id)</c>. A boost or its removal marks its flag changed after its commit.
/// </summary>
public sealed class BoostFlags(ICache cache, IDatabase db)
{
    private static readonly ViewerFlags Flags = new("rv:");

    /// <summary>Which of <paramref name="originals"/> <paramref name="viewer"/> boosted.</summary>
    public async Task<IReadOnlySet<long>> RebloggedAsync(long viewer, IReadOnlyList<long> originals, CancellationToken ct) =>
        await Flags.ReadAsync(cache, viewer, originals, unknown => db.ReadAsync(async c => (await c.QueryAsync<long>(new CommandDefinition(
            $"SELECT reblog_of_id FROM statuses WHERE account_id = @viewer AND reblog_of_id {Sql.In(db.Provider, "@unknown")}",
            new { viewer, unknown = Sql.List(db.Provider, unknown) }, cancellationToken: ct))).ToHashSet(), ct), ct);

    /// <summary>In the write that added or removed <paramref name="booster"/>'s boost of <paramref name="original"/>: marks the flag changed after the commit.</summary>
    public void ChangedAfterCommit(DbWrite w, long booster, long original) =>
        w.AfterCommit(() => Flags.MarkChangedAsync(cache, booster, original));
}
