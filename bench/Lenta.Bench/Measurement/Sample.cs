using System.Diagnostics;

namespace Lenta.Bench.Measurement;

/// <summary>What one case measured: how many writes were acknowledged in the window, and how long each waited.</summary>
public sealed record Sample(long Operations, double PerSecond, double P50Ms, double P99Ms)
{
    /// <summary><paramref name="latencies"/> are Stopwatch tick counts, one per operation that completed inside the window.</summary>
    public static Sample From(IEnumerable<List<long>> latencies, TimeSpan window)
    {
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new Sample(all.Length, all.Length / window.TotalSeconds, Milliseconds(Percentile(all, 50)), Milliseconds(Percentile(all, 99)));
    }

    /// <summary>Nearest-rank percentile of an ascending array: the smallest value with at least p% of values at or below it.</summary>
    public static T Percentile<T>(T[] sorted, double p) where T : struct
    {
        if (sorted.Length == 0)
            return default;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
