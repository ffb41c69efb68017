using Lenta.Bench.Cli;
using Lenta.Bench.Measurement;
using Microsoft.Data.Sqlite;

namespace Lenta.Bench.DbWrites;

/// <summary>
/// <c>db-writes</c>: single-row INSERTs per second through the relational DB port, against two plain-SQLite
/// yardsticks measured in the same run on the same disk (one fsync per row; 500 rows per fsync).
/// </summary>
internal static class DbWritesCommand
{
    private const int BulkRowsPerTransaction = 500;
    private static readonly int[] SqliteCallers = [1, 16, 64, 256];
    private static readonly int[] PostgresCallers = [1, 16, 64];

    public const string PostgresVariable = "LENTA_BENCH_POSTGRES";

    public static BenchCommand Command { get; } = new(
        "db-writes",
        $"single-row INSERTs/s: plain SQLite baselines vs Lenta's SqliteDatabase group commit (and PostgresDatabase if ${PostgresVariable} is set)",
        "[--seconds N (5)] [--warmup N (1)] [--out FILE.md] [--dir FOLDER (system temp)]",
        RunAsync);

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var options = BenchOptions.Parse(args, "seconds", "warmup", "out", "dir");
        var measure = TimeSpan.FromSeconds(options.Seconds("seconds", 5, 0.1, 3600));
        var warmup = TimeSpan.FromSeconds(options.Seconds("warmup", 1, 0, 600));
        var outFile = options.String("out");
        var postgres = Environment.GetEnvironmentVariable(PostgresVariable);
        var folder = Path.Combine(Path.GetFullPath(options.String("dir") ?? Path.GetTempPath()), $"lenta-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);

        var results = new List<CaseResult>();
        var failed = false;
        void Add(CaseResult result)
        {
            results.Add(result);
            Console.WriteLine($"  {result.Case,-3} {result.Engine,-26} {result.Callers,3} callers  {result.Sample.PerSecond,9:N0} rows/s  p50 {result.Sample.P50Ms,7:F2} ms  p99 {result.Sample.P99Ms,7:F2} ms");
        }

        Console.WriteLine($"db-writes: {measure.TotalSeconds} s per case after {warmup.TotalSeconds} s warm-up; SQLite files in {folder}");
        try
        {
            Add(new("a", "plain SQLite, 1 row/tx", 1, 1,
                PlainSqliteBaseline.Run(Path.Combine(folder, "a.db"), 1, warmup, measure, ct)));
            Add(new("b", $"plain SQLite, {BulkRowsPerTransaction} rows/tx", 1, BulkRowsPerTransaction,
                PlainSqliteBaseline.Run(Path.Combine(folder, "b.db"), BulkRowsPerTransaction, warmup, measure, ct)));
            foreach (var callers in SqliteCallers)
            {
                var (sample, rowsPerCommit) = await LentaDatabaseCases.SqliteAsync(Path.Combine(folder, $"c{callers}.db"), callers, warmup, measure, ct);
                Add(new("c", "Lenta SqliteDatabase", callers, rowsPerCommit, sample));
            }
            if (string.IsNullOrWhiteSpace(postgres))
                Console.WriteLine($"  d   PostgresDatabase: skipped (set {PostgresVariable} to an Npgsql connection string)");
            else
            {
                try
                {
                    await LentaDatabaseCases.PostgresAsync(postgres, PostgresCallers, warmup, measure,
                        (callers, sample) => Add(new("d", "Lenta PostgresDatabase", callers, 1, sample)), ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Keep the SQLite figures already measured; the exit code still says something failed.
                    await Console.Error.WriteLineAsync($"  d   PostgresDatabase failed: {e.GetType().Name}: {e.Message}");
                    failed = true;
                }
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }

        var report = DbWritesReport.Markdown(results, measure, warmup);
        Console.WriteLine();
        Console.WriteLine(report);
        if (outFile is not null)
        {
            await File.WriteAllTextAsync(outFile, report, ct);
            Console.WriteLine($"Written to {Path.GetFullPath(outFile)}");
        }
        return failed ? 1 : 0;
    }
}
