using System.Diagnostics;

namespace Lenta.Bench.Measurement;

/// <summary>
/// A case runs for warm-up + measure; only operations that <em>complete</em> inside the measured part count,
/// so throughput is exactly completions / measured seconds and neither the JIT warm-up nor the tail of
/// calls still in flight at the end bends it.
/// </summary>
public sealed class MeasuredWindow
{
    private MeasuredWindow(long start, long end, TimeSpan length)
    {
        Start = start;
        End = end;
        Length = length;
    }

    /// <summary>Stopwatch timestamps bounding the measured part.</summary>
    public long Start { get; }

    public long End { get; }

    public TimeSpan Length { get; }

    public static MeasuredWindow BeginNow(TimeSpan warmup, TimeSpan measure)
    {
        var start = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        return new MeasuredWindow(start, start + (long)(measure.TotalSeconds * Stopwatch.Frequency), measure);
    }

    /// <summary>Whether a new operation may still start: one that starts later could not complete inside the window.</summary>
    public bool IsOpen(long now) => now < End;

    public bool Counts(long completedAt) => completedAt >= Start && completedAt < End;
}
