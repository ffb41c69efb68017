using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Posts;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Posts;

/// <summary>The full-text index of posts covers the posts written before its migration, and follows later writes, on SQLite and PostgreSQL.</summary>
public abstract class SearchIndexMigrationTests(DbProvider provider) : IAsyncLifetime
{
    private Func<ValueTask> _dispose = () => ValueTask.CompletedTask;
    private IDatabase Db { get; set; } = null!;

    public async ValueTask InitializeAsync() => (Db, _dispose) = await Databases.CreateAsync(provider);

    public ValueTask DisposeAsync() => _dispose();

    private Task<List<long>> FindAsync(string word) => Db.ReadAsync(async c => (await c.QueryAsync<long>(provider == DbProvider.Postgres
        ? "SELECT id FROM statuses WHERE search @@ plainto_tsquery('simple', @word) ORDER BY id"
        : "SELECT rowid FROM statuses_fts WHERE statuses_fts MATCH @word ORDER BY rowid", new { word })).ToList());

    [Fact]
    public async Task Existing_posts_are_indexed_and_writes_keep_the_index()
    {
        var posts = new PostsMigrations().Migrations.ToList();
        var before = posts.Where(m => string.CompareOrdinal(m.Id, "20261207_35_statuses_search") < 0).ToArray();
        await new DatabaseMigrator(Db, [new MigrationList(before)], NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        await Db.WriteAsync(w => w.ExecuteAsync("""
            INSERT INTO statuses (id, account_id, text, content, spoiler_text, visibility, created_at) VALUES
                (10, 1, 'Старый пост about Rivers', '', '', 0, 0), (20, 1, 'nothing here', '', 'rivers warning', 0, 0);
            """));

        var upToSearch = posts.Where(m => string.CompareOrdinal(m.Id, "20261207_35_statuses_search") <= 0).ToArray();
        var migrator = new DatabaseMigrator(Db, [new MigrationList(upToSearch)], NullLogger<DatabaseMigrator>.Instance);
        Assert.Equal(["20261207_35_statuses_search"], await migrator.MigrateAsync());
        Assert.Equal([10L, 20L], await FindAsync("rivers"));
        Assert.Equal([10L], await FindAsync("старый"));

        await Db.WriteAsync(w => w.ExecuteAsync("""
            UPDATE statuses SET text = 'now about lakes' WHERE id = 10;
            DELETE FROM statuses WHERE id = 20;
            INSERT INTO statuses (id, account_id, text, content, spoiler_text, visibility, created_at) VALUES (30, 1, 'Rivers again', '', '', 0, 0);
            """));
        Assert.Equal([30L], await FindAsync("rivers"));
        Assert.Equal([10L], await FindAsync("lakes"));
        Assert.Empty(await FindAsync("старый"));
    }
}

public sealed class SqliteSearchIndexMigrationTests() : SearchIndexMigrationTests(DbProvider.Sqlite);

public sealed class PostgresSearchIndexMigrationTests() : SearchIndexMigrationTests(DbProvider.Postgres);
