using Lenta.Server.Platform.Database;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lenta.Tests.Infrastructure;

/// <summary>Creates a fresh, empty database of each engine for a contract-test class.</summary>
public static class Databases
{
    public static async Task<(IDatabase Db, Func<ValueTask> Dispose)> CreateAsync(DbProvider provider)
    {
        switch (provider)
        {
            case DbProvider.Sqlite:
                var folder = TempFolder.Create("lenta-db");
                var sqlite = new SqliteDatabase($"Data Source={Path.Combine(folder, "lenta.db")}", 512, NullLogger<SqliteDatabase>.Instance);
                return (sqlite, async () =>
                {
                    await sqlite.DisposeAsync();
                    TempFolder.Delete(folder);
                });
            default:
                var cs = await Postgres.CreateDatabaseAsync();
                var pg = new PostgresDatabase(PostgresDatabase.CreateDataSource(cs), NullLogger<PostgresDatabase>.Instance);
                return (pg, () => pg.DisposeAsync());
        }
    }
}

/// <summary>A fixed list of migrations, for tests that migrate a database step by step.</summary>
public sealed class MigrationList(params Migration[] migrations) : IMigrationSource
{
    public IEnumerable<Migration> Migrations => migrations;
}
