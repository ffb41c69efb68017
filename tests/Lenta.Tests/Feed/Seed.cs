using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Tests.Feed;

/// <summary>Bulk seeding straight into the database, as the API would have written it (accounts, follows, counts, activity).</summary>
public static class Seed
{
    /// <summary>Creates <paramref name="count"/> accounts that follow <paramref name="target"/> and read their feed recently; returns their ids.</summary>
    public static async Task<List<long>> FollowersAsync(IServiceProvider services, long target, int count, int chunk = 2000)
    {
        var db = services.GetRequiredService<IDatabase>();
        var ids = services.GetRequiredService<IdGenerator>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var created = new List<long>(count);
        var tag = Guid.NewGuid().ToString("N")[..6];
        for (var start = 0; start < count; start += chunk)
        {
            var rows = Enumerable.Range(start, Math.Min(chunk, count - start)).Select(i => new
            {
                id = ids.Next(), follow = ids.Next(), username = $"s{tag}_{i}", lower = $"s{tag}_{i}", target, now,
            }).ToList();
            await db.WriteAsync(async w =>
            {
                await w.ExecuteAsync("INSERT INTO accounts (id, username, username_lower, created_at, updated_at, following_count) VALUES (@id, @username, @lower, @now, @now, 1)", rows);
                await w.ExecuteAsync("INSERT INTO follows (id, account_id, target_account_id, created_at) VALUES (@follow, @id, @target, @now)", rows);
                await w.ExecuteAsync("INSERT INTO feed_activity (account_id, last_read_at) VALUES (@id, @now)", rows);
                await w.ExecuteAsync("UPDATE accounts SET followers_count = followers_count + @n WHERE id = @target", new { n = rows.Count, target });
            });
            created.AddRange(rows.Select(r => r.id));
        }
        return created;
    }
}
