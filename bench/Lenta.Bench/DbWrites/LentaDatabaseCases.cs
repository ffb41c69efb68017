using System.Data.Common;
using Lenta.Bench.Measurement;
using Lenta.Server.Platform.Database;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lenta.Bench.DbWrites;

/// <summary>
/// Lenta's own <see cref="IDatabase"/> adapters, used as a module would: one row per <c>WriteAsync</c> via Dapper,
/// awaited, so every measured latency is the time until that write's commit is durable.
/// </summary>
internal static class LentaDatabaseCases
{
    public static async Task<(Sample Sample, double RowsPerCommit)> SqliteAsync(string file, int callers, TimeSpan warmup, TimeSpan measure, CancellationToken ct)
    {
        await using var db = new SqliteDatabase($"Data Source={file}", new DatabaseOptions().MaxWriteBatch, NullLogger<SqliteDatabase>.Instance);
        await db.WriteAsync(w => w.ExecuteAsync(BenchRows.CreateTable(DbProvider.Sqlite)), ct);
        var commits = new CommitCounter();
        long nextId = 0;
        var sample = await LoadRunner.RunAsync(callers, warmup, measure, () => db.WriteAsync(w =>
        {
            commits.Observe(w.Transaction);
            return w.ExecuteAsync(BenchRows.Insert, BenchRows.Args(Interlocked.Increment(ref nextId)));
        }, ct), ct);
        return (sample, commits.RowsPerCommit);
    }

    /// <summary>Runs every caller count on one table, emptied between cases; the table is dropped at the end.</summary>
    public static async Task PostgresAsync(string connectionString, IEnumerable<int> callerCounts, TimeSpan warmup, TimeSpan measure, Action<int, Sample> measured, CancellationToken ct)
    {
        await using var db = new PostgresDatabase(PostgresDatabase.CreateDataSource(connectionString), NullLogger<PostgresDatabase>.Instance);
        await db.WriteAsync(w => w.ExecuteAsync("DROP TABLE IF EXISTS lenta_bench_rows"), ct);
        await db.WriteAsync(w => w.ExecuteAsync(BenchRows.CreateTable(DbProvider.Postgres)), ct);
        try
        {
            foreach (var callers in callerCounts)
            {
                await db.WriteAsync(w => w.ExecuteAsync("TRUNCATE lenta_bench_rows"), ct);
                long nextId = 0;
                var sample = await LoadRunner.RunAsync(callers, warmup, measure, () => db.WriteAsync(
                    w => w.ExecuteAsync(BenchRows.Insert, BenchRows.Args(Interlocked.Increment(ref nextId))), ct), ct);
                measured(callers, sample);
            }
        }
        finally
        {
            await db.WriteAsync(w => w.ExecuteAsync("DROP TABLE IF EXISTS lenta_bench_rows"), CancellationToken.None);
        }
    }

    /// <summary>
    /// Counts group commits from inside the write callbacks: SqliteDatabase hands every write of one batch the same
    /// transaction, so a new transaction object means a new commit. Callbacks run one at a time on the writer.
    /// </summary>
    private sealed class CommitCounter
    {
        private DbTransaction? _last;
        private long _rows;
        private long _commits;

        public double RowsPerCommit => _commits == 0 ? 0 : (double)_rows / _commits;

        public void Observe(DbTransaction transaction)
        {
            _rows++;
            if (ReferenceEquals(transaction, _last))
                return;
            _last = transaction;
            _commits++;
        }
    }
}
