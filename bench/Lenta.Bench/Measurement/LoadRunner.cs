using System.Diagnostics;

namespace Lenta.Bench.Measurement;

/// <summary>Closed-loop load: N callers, each starting its next operation as soon as its previous one is acknowledged.</summary>
public static class LoadRunner
{
    public static async Task<Sample> RunAsync(int callers, TimeSpan warmup, TimeSpan measure, Func<Task> operation, CancellationToken ct)
    {
        var window = MeasuredWindow.BeginNow(warmup, measure);
        var loops = new Task<List<long>>[callers];
        for (var i = 0; i < callers; i++)
            loops[i] = Task.Run(() => CallerAsync(window, operation, ct), ct);
        var latencies = await Task.WhenAll(loops);
        return Sample.From(latencies, window.Length);
    }

    private static async Task<List<long>> CallerAsync(MeasuredWindow window, Func<Task> operation, CancellationToken ct)
    {
        var latencies = new List<long>();
        for (var start = Stopwatch.GetTimestamp(); window.IsOpen(start); start = Stopwatch.GetTimestamp())
        {
            ct.ThrowIfCancellationRequested();
            await operation();
            var done = Stopwatch.GetTimestamp();
            if (window.Counts(done))
                latencies.Add(done - start);
        }
        return latencies;
    }
}
