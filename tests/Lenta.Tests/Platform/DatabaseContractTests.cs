using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Platform;

/// <summary>What every relational DB adapter must do; run unchanged against SQLite and PostgreSQL.</summary>
public abstract class DatabaseContractTests : PortContractTests<IDatabase>
{
    protected IDatabase Db => Subject;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Db.WriteAsync(w => w.ExecuteAsync(Sql.Expand("CREATE TABLE items (id {pk}, name TEXT NOT NULL UNIQUE, data {blob} NULL)", w.Provider)));
    }

    private Task<long> CountAsync(string where = "1 = 1") =>
        Db.ReadAsync(c => c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM items WHERE {where}"));

    [Fact]
    public async Task A_committed_write_is_read_back()
    {
        await Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name, data) VALUES (1, 'one', @data)", new { data = new byte[] { 0, 1, 255 } }));
        var row = await Db.ReadAsync(c => c.QuerySingleAsync<(string Name, byte[] Data)>("SELECT name, data FROM items WHERE id = 1"));
        Assert.Equal("one", row.Name);
        Assert.Equal(new byte[] { 0, 1, 255 }, row.Data);
    }

    [Fact]
    public async Task A_write_that_throws_leaves_nothing_and_its_neighbours_commit()
    {
        var tasks = Enumerable.Range(1, 300).Select(i => Db.WriteAsync(async w =>
        {
            await w.ExecuteAsync("INSERT INTO items (id, name) VALUES (@i, @name)", new { i, name = $"n{i}" });
            if (i % 7 == 0)
                throw new InvalidOperationException($"boom {i}");
            return i;
        })).ToList();

        var results = await Task.WhenAll(tasks.Select(async t =>
        {
            try
            {
                return await t;
            }
            catch (InvalidOperationException)
            {
                return -1;
            }
        }));

        Assert.Equal(300 - 300 / 7, results.Count(r => r > 0));
        Assert.Equal(300 - 300 / 7, await CountAsync());
        Assert.Equal(0, await CountAsync("id % 7 = 0"));
    }

    [Fact]
    public async Task A_constraint_violation_surfaces_to_its_caller_only()
    {
        await Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (1, 'taken')"));
        var duplicate = Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (2, 'taken')"));
        var fine = Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (3, 'free')"));
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => duplicate);
        Assert.Equal(1, await fine);
        Assert.Equal(2, await CountAsync());
    }

    [Fact]
    public async Task After_commit_actions_run_only_when_the_write_commits()
    {
        var ran = new List<string>();
        await Db.WriteAsync(async w =>
        {
            await w.ExecuteAsync("INSERT INTO items (id, name) VALUES (1, 'a')");
            w.AfterCommit(() => { lock (ran) ran.Add("committed"); });
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => Db.WriteAsync(async w =>
        {
            await w.ExecuteAsync("INSERT INTO items (id, name) VALUES (2, 'b')");
            w.AfterCommit(() => { lock (ran) ran.Add("rolled back"); });
            throw new InvalidOperationException("no");
        }));
        Assert.Equal(["committed"], ran);
    }

    [Fact]
    public async Task A_write_returns_only_after_its_after_commit_actions_finished()
    {
        var done = false;
        await Db.WriteAsync(async w =>
        {
            await w.ExecuteAsync("INSERT INTO items (id, name) VALUES (1, 'a')");
            w.AfterCommit(async () =>
            {
                await Task.Delay(50);
                done = true;
            });
            w.AfterCommit(() => throw new InvalidOperationException("a failing action is logged, not thrown"));
        });
        Assert.True(done);
        Assert.Equal(1, await CountAsync());
    }

    [Fact]
    public async Task Many_concurrent_writes_all_commit_once()
    {
        await Task.WhenAll(Enumerable.Range(1, 2000).Select(i =>
            Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (@i, @name) ON CONFLICT (name) DO NOTHING", new { i, name = $"n{i % 1500}" }))));
        Assert.Equal(1500, await CountAsync());
    }

    [Fact]
    public async Task Returning_and_upsert_work_the_same_on_every_engine()
    {
        var id = await Db.WriteAsync(w => w.ExecuteScalarAsync<long>("INSERT INTO items (id, name) VALUES (42, 'x') RETURNING id"));
        Assert.Equal(42, id);
        await Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (43, 'x') ON CONFLICT (name) DO UPDATE SET data = @d", new { d = new byte[] { 7 } }));
        var data = await Db.ReadAsync(c => c.ExecuteScalarAsync<byte[]>("SELECT data FROM items WHERE name = 'x'"));
        Assert.Equal(new byte[] { 7 }, data);
    }

    [Fact]
    public async Task List_membership_reads_the_same_on_every_engine()
    {
        await Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"));
        var found = await Db.ReadAsync(c => c.QueryAsync<long>($"SELECT id FROM items WHERE id {Sql.In(Db.Provider, "@ids")} ORDER BY id", new { ids = Sql.List(Db.Provider, [3L, 1, 99, long.MaxValue]) }));
        Assert.Equal([1L, 3L], found);
        var none = await Db.ReadAsync(c => c.QueryAsync<long>($"SELECT id FROM items WHERE id {Sql.In(Db.Provider, "@ids")}", new { ids = Sql.List(Db.Provider, Array.Empty<long>()) }));
        Assert.Empty(none);
        var named = await Db.ReadAsync(c => c.QueryAsync<long>($"SELECT id FROM items WHERE name {Sql.In(Db.Provider, "@names")} ORDER BY id", new { names = Sql.List(Db.Provider, ["b", "c\"", "z"]) }));
        Assert.Equal([2L], named);
    }

    [Fact]
    public async Task A_write_cancelled_before_it_runs_writes_nothing()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (1, 'a')"), cts.Token));
        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task Migrations_upgrade_an_existing_database_without_loss()
    {
        var v1 = new MigrationList(new Migration("20260101_01_people", "CREATE TABLE people (id {pk}, name TEXT NOT NULL)"));
        Assert.Equal(["20260101_01_people"], await new DatabaseMigrator(Db, [v1], NullLogger<DatabaseMigrator>.Instance).MigrateAsync());
        await Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO people (id, name) VALUES (1, 'Ada'), (2, 'Grace')"));

        var v2 = new MigrationList(
            new Migration("20260101_01_people", "CREATE TABLE people (id {pk}, name TEXT NOT NULL)"),
            new Migration("20260201_01_people_bio", "ALTER TABLE people ADD COLUMN bio TEXT NOT NULL DEFAULT ''; CREATE INDEX ix_people_name ON people (name);"));
        var migrator = new DatabaseMigrator(Db, [v2], NullLogger<DatabaseMigrator>.Instance);
        Assert.Equal(["20260201_01_people_bio"], await migrator.MigrateAsync());
        Assert.Empty(await migrator.MigrateAsync());

        var people = await Db.ReadAsync(c => c.QueryAsync<(string Name, string Bio)>("SELECT name, bio FROM people ORDER BY id"));
        Assert.Equal([("Ada", ""), ("Grace", "")], people);
        Assert.Equal(["20260101_01_people", "20260201_01_people_bio"], await migrator.AppliedAsync());
    }

    [Fact]
    public async Task A_failing_migration_leaves_the_earlier_ones_and_nothing_of_itself()
    {
        var source = new MigrationList(
            new Migration("20260101_01_good", "CREATE TABLE good (id {pk})"),
            new Migration("20260101_02_bad", "CREATE TABLE half (id {pk}); THIS IS NOT SQL;"));
        var migrator = new DatabaseMigrator(Db, [source], NullLogger<DatabaseMigrator>.Instance);
        await Assert.ThrowsAnyAsync<Exception>(() => migrator.MigrateAsync());
        Assert.Equal(["20260101_01_good"], await migrator.AppliedAsync());
        await Assert.ThrowsAnyAsync<Exception>(() => Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM half")));
    }
}

public sealed class SqliteDatabaseContractTests : DatabaseContractTests
{
    protected override Task<(IDatabase Port, Func<ValueTask> Release)> CreateAsync() => Databases.CreateAsync(DbProvider.Sqlite);
}

public sealed class PostgresDatabaseContractTests : DatabaseContractTests
{
    protected override Task<(IDatabase Port, Func<ValueTask> Release)> CreateAsync() => Databases.CreateAsync(DbProvider.Postgres);

    [Fact]
    public async Task Statements_used_often_are_prepared_and_stay_prepared_across_uses_of_a_pooled_connection()
    {
        for (var i = 0; i < 8; i++)
            Assert.Equal(i + 1, await Db.ReadAsync(c => c.ExecuteScalarAsync<int>("SELECT 1 + @i", new { i })));
        // One request at a time gets the same pooled connection back; DISCARD ALL on its return would have dropped these.
        var prepared = await Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT 1 + %'"));
        Assert.Equal(1, prepared);
    }

    [Fact]
    public async Task A_prepared_statement_that_fails_again_and_again_leaves_the_others_working()
    {
        await Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (1, 'one')"));
        for (var i = 0; i < 8; i++)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (@id, 'one')", new { id = 100 + i })));
            Assert.Equal(1, await Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items WHERE name = @name", new { name = "one" })));
        }
        await Db.WriteAsync(w => w.ExecuteAsync("INSERT INTO items (id, name) VALUES (@id, 'two')", new { id = 2 }));
        Assert.Equal(2, await Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items")));
    }

    [Theory]
    [InlineData("Host=127.0.0.1", 64, true)]
    [InlineData("Host=127.0.0.1;Max Auto Prepare=0", 0, true)]
    [InlineData("Host=127.0.0.1;No Reset On Close=false;Max Auto Prepare=8", 8, false)]
    [InlineData("Host=127.0.0.1;noresetonclose=false", 64, false)]
    public void The_operators_connection_string_wins_over_Lentas_defaults(string connectionString, int maxAutoPrepare, bool noResetOnClose)
    {
        using var source = PostgresDatabase.CreateDataSource(connectionString);
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(source.ConnectionString);
        Assert.Equal(maxAutoPrepare, settings.MaxAutoPrepare);
        Assert.Equal(noResetOnClose, settings.NoResetOnClose);
    }
}
