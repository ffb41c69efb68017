using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Platform;

/// <summary>The SQLite adapter's own promise: its single writer outlives a batch that cannot start.</summary>
public sealed class SqliteDatabaseTests
{
    [Fact]
    public async Task A_batch_that_cannot_start_fails_its_writes_and_the_writer_carries_on()
    {
        var folder = TempFolder.Create("lenta-lock");
        var file = Path.Combine(folder, "lenta.db");
        await using (var db = new SqliteDatabase($"Data Source={file};Default Timeout=1", 64, NullLogger<SqliteDatabase>.Instance))
        {
            await db.WriteAsync(w => w.ExecuteAsync("CREATE TABLE t (id INTEGER PRIMARY KEY)"));
            // Another process holds the write lock longer than the busy timeout.
            await using (var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=false"))
            {
                await other.OpenAsync();
                await other.ExecuteAsync("BEGIN IMMEDIATE");
                await Assert.ThrowsAnyAsync<Exception>(() => db.WriteAsync(w => w.ExecuteAsync("INSERT INTO t (id) VALUES (1)")).WaitAsync(TimeSpan.FromSeconds(30)));
                await other.ExecuteAsync("ROLLBACK");
            }
            await db.WriteAsync(w => w.ExecuteAsync("INSERT INTO t (id) VALUES (2)")).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(new long[] { 2 }, await db.ReadAsync(async c => (await c.QueryAsync<long>("SELECT id FROM t")).ToArray()));
        }
        TempFolder.Delete(folder);
    }
}

