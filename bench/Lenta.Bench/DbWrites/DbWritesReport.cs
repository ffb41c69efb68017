using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Lenta.Bench.Measurement;

namespace Lenta.Bench.DbWrites;

/// <summary>One row of the table: which case, how many concurrent callers, how many rows each commit carried.</summary>
internal sealed record CaseResult(string Case, string Engine, int Callers, double RowsPerCommit, Sample Sample);

/// <summary>
/// The markdown table. Absolute rows/s say more about the disk than about Lenta, so each case is also shown as a
/// ratio against the yardsticks measured moments earlier on the same disk: (b) bulk and (a) one fsync per row.
/// </summary>
internal static class DbWritesReport
{
    public static string Markdown(IReadOnlyList<CaseResult> results, TimeSpan measure, TimeSpan warmup)
    {
        var bulk = results.FirstOrDefault(r => r.Case == "b")?.Sample.PerSecond ?? double.NaN;
        var single = results.FirstOrDefault(r => r.Case == "a")?.Sample.PerSecond ?? double.NaN;
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"db-writes, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC: {Environment.ProcessorCount} processors, "
            + $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}; {measure.TotalSeconds} s per case after {warmup.TotalSeconds} s warm-up.");
        text.AppendLine();
        text.AppendLine("| case | engine | callers | rows/commit | rows/s | p50 ms | p99 ms | × bulk (b) | × 1 fsync/row (a) |");
        text.AppendLine("|------|--------|--------:|------------:|-------:|-------:|-------:|-----------:|------------------:|");
        foreach (var r in results)
        {
            var s = r.Sample;
            text.AppendLine(c, $"| {r.Case} | {r.Engine} | {r.Callers} | {r.RowsPerCommit:0.#} | {s.PerSecond:N0} | {s.P50Ms:0.00} | {s.P99Ms:0.00} | {s.PerSecond / bulk:0.00} | {s.PerSecond / single:0.0} |");
        }
        return text.ToString();
    }
}
