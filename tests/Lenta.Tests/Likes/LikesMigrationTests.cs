using Dapper;
using Lenta.Server.Likes;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Likes;

/// <summary>The Likes schema's upgrades keep every like and count, on SQLite and PostgreSQL.</summary>
public abstract class LikesMigrationTests(DbProvider provider) : IAsyncLifetime
{
    private Func<ValueTask> _dispose = () => ValueTask.CompletedTask;
    private IDatabase Db { get; set; } = null!;

    public async ValueTask InitializeAsync() => (Db, _dispose) = await Databases.CreateAsync(provider);

    public ValueTask DisposeAsync() => _dispose();

    /// <summary>The one column of the Posts schema the Likes migrations read and drop.</summary>
    private static readonly Migration Statuses = new("20261101_01_statuses", "CREATE TABLE statuses (id {pk}, favourites_count BIGINT NOT NULL DEFAULT 0)");

    [Fact]
    public async Task Folding_moves_existing_likes_into_the_lists_and_pending_deltas_into_the_counts()
    {
        var likes = new LikesMigrations().Migrations.ToList();
        var before = likes.Where(m => string.CompareOrdinal(m.Id, "20261126_52") < 0).Prepend(Statuses).ToArray();
        await new DatabaseMigrator(Db, [new MigrationList(before)], NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        await Db.WriteAsync(w => w.ExecuteAsync("""
            INSERT INTO statuses (id) VALUES (10), (20);
            INSERT INTO favourites (id, account_id, status_id, created_at) VALUES (1, 100, 10, 0), (2, 101, 10, 0), (3, 100, 20, 0);
            INSERT INTO favourite_counts (status_id, favourites_count) VALUES (10, 1);
            INSERT INTO favourite_deltas (seq, status_id, delta) VALUES (1, 10, 1), (2, 20, 1);
            """));

        var migrator = new DatabaseMigrator(Db, [new MigrationList([Statuses, .. likes.Where(m => string.CompareOrdinal(m.Id, "20261126_53") < 0)])], NullLogger<DatabaseMigrator>.Instance);
        Assert.Equal(["20261126_52_favourites_folded"], await migrator.MigrateAsync());

        Assert.Equal([(10L, 1L, 100L), (10L, 2L, 101L), (20L, 3L, 100L)], await RowsAsync("SELECT status_id, id, account_id FROM favourites_by_status ORDER BY status_id, id"));
        Assert.Equal([(100L, 1L, 10L), (100L, 3L, 20L), (101L, 2L, 10L)], await RowsAsync("SELECT account_id, id, status_id FROM favourites_by_account ORDER BY account_id, id"));
        Assert.Equal([(10L, 2L), (20L, 1L)], await Db.ReadAsync(c => c.QueryAsync<(long, long)>("SELECT status_id, favourites_count FROM favourite_counts ORDER BY status_id")));
        Assert.Equal(0L, await Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM favourites WHERE folded = 0")));
        Assert.Equal(3L, await Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM favourites WHERE folded = 1")));
    }

    private Task<IEnumerable<(long, long, long)>> RowsAsync(string sql) => Db.ReadAsync(c => c.QueryAsync<(long, long, long)>(sql));
}

public sealed class SqliteLikesMigrationTests() : LikesMigrationTests(DbProvider.Sqlite);

public sealed class PostgresLikesMigrationTests() : LikesMigrationTests(DbProvider.Postgres);
