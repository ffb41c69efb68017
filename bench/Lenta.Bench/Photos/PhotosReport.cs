using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Lenta.Bench.Photos;

internal sealed record RunSetup(int Count, int Width, int Height, int Parallel, int? Concurrency, string SaveOptions,
    (int Width, int Height) OriginalBox, (int Width, int Height) SmallBox, string CliVersion, string NetVipsVersion);

internal sealed record VariantInfo(int Width, int Height, double AverageBytes);

/// <summary>One side's run: photos per second over the wall time of all workers, per-photo latency (both variants).</summary>
internal sealed record SideResult(string Name, int Photos, TimeSpan Wall, double PerSecond, double P50Ms, double P99Ms, VariantInfo Original, VariantInfo Small);

internal static class PhotosReport
{
    public static string Markdown(RunSetup s, IReadOnlyList<SideResult> sides)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"photos, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC: {Environment.ProcessorCount} processors, "
            + $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}; {s.Count} generated JPEGs {s.Width}×{s.Height} "
            + $"(q {TestPhotos.Quality}), {s.Parallel} workers, libvips threads per image: {(s.Concurrency is { } n ? n.ToString(c) : "default")}; "
            + $"one warm-up photo per side not counted. vipsthumbnail: {s.CliVersion}, `[{s.SaveOptions}]`; NetVips: {s.NetVipsVersion}.");
        text.AppendLine();
        text.AppendLine("| side | photos | photos/s | p50 ms | p99 ms | original | avg kB | small | avg kB | × vipsthumbnail |");
        text.AppendLine("|------|-------:|---------:|-------:|-------:|---------:|-------:|------:|-------:|----------------:|");
        var baseline = sides[0];
        foreach (var r in sides)
        {
            text.AppendLine(c, $"| {r.Name} | {r.Photos} | {r.PerSecond:0.00} | {r.P50Ms:0} | {r.P99Ms:0} | "
                + $"{r.Original.Width}×{r.Original.Height} | {r.Original.AverageBytes / 1e3:N0} | {r.Small.Width}×{r.Small.Height} | {r.Small.AverageBytes / 1e3:0.0} | "
                + $"{r.PerSecond / baseline.PerSecond:0.00} |");
        }
        return text.ToString();
    }
}
