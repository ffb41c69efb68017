using Dapper;

namespace Lenta.Server.Platform.Database;

/// <summary>
/// One schema change. <see cref="Id"/> orders all migrations of all modules (<c>yyyyMMdd_NN_name</c>);
/// <see cref="Sql"/> is written once for both engines, using the tokens of <see cref="Database.Sql.Expand"/>.
/// A migration that has been released is never edited: a change is a new migration.
/// </summary>
public sealed record Migration(string Id, string Sql);

/// <summary>A module's migrations; each module registers one and owns the tables it creates.</summary>
public interface IMigrationSource
{
    IEnumerable<Migration> Migrations { get; }
}

/// <summary>
/// Brings the database up to date: applies, in id order, every migration not yet recorded in
/// <c>schema_migrations</c>, each in its own transaction with its record (DDL is transactional on both
/// engines), so a crash mid-upgrade leaves the last applied migration in place and the next start
/// continues from there. On PostgreSQL an advisory lock keeps nodes starting together from racing.
/// </summary>
public sealed class DatabaseMigrator(IDatabase db, IEnumerable<IMigrationSource> sources, ILogger<DatabaseMigrator> log)
{
    private const long AdvisoryLockKey = 0x4C454E5441; // "LENTA"

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct = default)
    {
        var all = sources.SelectMany(s => s.Migrations).OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        var duplicate = all.GroupBy(m => m.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"Two migrations share the id {duplicate.Key}.");

        await db.WriteAsync(w => w.ExecuteAsync(
            "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"), ct);

        var applied = new List<string>();
        foreach (var migration in all)
        {
            var done = await db.WriteAsync(async w =>
            {
                if (w.Provider == DbProvider.Postgres)
                    await w.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = AdvisoryLockKey });
                var exists = await w.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations WHERE id = @id", new { id = migration.Id });
                if (exists > 0)
                    return false;
                await w.ExecuteAsync(Sql.Expand(migration.Sql, w.Provider));
                await w.ExecuteAsync("INSERT INTO schema_migrations (id, applied_at) VALUES (@id, @at)",
                    new { id = migration.Id, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
                return true;
            }, ct);
            if (done)
            {
                log.LogInformation("Applied migration {Migration}", migration.Id);
                applied.Add(migration.Id);
            }
        }
        return applied;
    }

    public Task<List<string>> AppliedAsync(CancellationToken ct = default) =>
        db.ReadAsync(async c => (await c.QueryAsync<string>(new CommandDefinition("SELECT id FROM schema_migrations ORDER BY id", cancellationToken: ct))).ToList(), ct);
}
