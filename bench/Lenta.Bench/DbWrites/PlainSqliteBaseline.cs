using System.Diagnostics;
using Dapper;
using Lenta.Bench.Measurement;
using Lenta.Server.Platform.Database;
using Microsoft.Data.Sqlite;

namespace Lenta.Bench.DbWrites;

/// <summary>
/// The yardsticks: one plain connection, Lenta's pragmas, a prepared INSERT, no framework in between.
/// With one row per transaction it pays one fsync per row; with hundreds it shows what the disk and
/// SQLite can take at all. Each row's latency runs from its INSERT to the commit that makes it durable,
/// the moment a caller could be told "saved".
/// </summary>
internal static class PlainSqliteBaseline
{
    // The same as SqliteDatabase's writer, so the only difference is how writes are grouped.
    private const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;";

    public static Sample Run(string file, int rowsPerTransaction, TimeSpan warmup, TimeSpan measure, CancellationToken ct)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ConnectionString;
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        connection.Execute(Pragmas);
        connection.Execute(BenchRows.CreateTable(DbProvider.Sqlite));

        using var insert = connection.CreateCommand();
        insert.CommandText = BenchRows.Insert;
        var id = insert.Parameters.Add("@id", SqliteType.Integer);
        var author = insert.Parameters.Add("@author", SqliteType.Integer);
        var at = insert.Parameters.Add("@at", SqliteType.Integer);
        insert.Parameters.AddWithValue("@body", BenchRows.Body);

        var window = MeasuredWindow.BeginNow(warmup, measure);
        var latencies = new List<long>();
        var rowStarts = new long[rowsPerTransaction];
        long nextId = 0;
        while (window.IsOpen(Stopwatch.GetTimestamp()))
        {
            ct.ThrowIfCancellationRequested();
            using (var tx = connection.BeginTransaction())
            {
                insert.Transaction = tx;
                for (var i = 0; i < rowsPerTransaction; i++)
                {
                    rowStarts[i] = Stopwatch.GetTimestamp();
                    id.Value = ++nextId;
                    author.Value = nextId % 1000;
                    at.Value = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    insert.ExecuteNonQuery();
                }
                tx.Commit();
            }
            var committed = Stopwatch.GetTimestamp();
            if (window.Counts(committed))
                latencies.AddRange(rowStarts.Select(start => committed - start));
        }
        return Sample.From([latencies], window.Length);
    }
}
