using System.Diagnostics;
using System.Globalization;
using Lenta.Bench.Cli;
using Lenta.Bench.Measurement;
using Lenta.Server.Media;
using Lenta.Server.Platform.Objects;
using NetVips;

namespace Lenta.Bench.Photos;

/// <summary>
/// <c>photos</c>: photos per second through <see cref="PhotoProcessor.Process"/> against the <c>vipsthumbnail</c> CLI
/// making the same two variants (capped original, small preview, metadata stripped) from the same generated JPEGs,
/// with the same number of workers, each working through its share of the images one after another.
/// </summary>
internal static class PhotosCommand
{
    /// <summary>What PhotoProcessor's Jpegsave does: Q 85, optimised Huffman tables, progressive; plus no metadata.</summary>
    public const string DefaultSaveOptions = "Q=85,optimize_coding,interlace,strip";

    public static BenchCommand Command { get; } = new(
        "photos",
        "photos/s: Lenta's PhotoProcessor vs the vipsthumbnail CLI (libvips-tools) making the same two JPEG variants of generated photos",
        "[--count N (24)] [--size WxH (4000x3000)] [--parallel N (processors)] [--vips-concurrency N (libvips default)] "
            + $"[--save OPTIONS ({DefaultSaveOptions})] [--out FILE.md] [--dir FOLDER (system temp)] "
            + "[--s3 URL (also time the photo job on disk stores and on this S3 service)] [--s3-key KEY (S3RVER)] [--s3-secret SECRET (S3RVER)]",
        RunAsync);

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var options = BenchOptions.Parse(args, "count", "size", "parallel", "vips-concurrency", "save", "out", "dir", "s3", "s3-key", "s3-secret");
        var count = options.Int("count", 24, 1, 10_000);
        var (width, height) = ParseSize(options.String("size") ?? "4000x3000");
        var parallel = options.Int("parallel", Environment.ProcessorCount, 1, 1024);
        int? concurrency = options.String("vips-concurrency") is null ? null : options.Int("vips-concurrency", 0, 1, 1024);
        var save = options.String("save") ?? DefaultSaveOptions;
        var outFile = options.String("out");

        var cli = VipsThumbnail.Find();
        if (cli is null)
            return 1;

        PhotoProcessor.Harden();
        if (concurrency is { } threads)
            NetVips.NetVips.Concurrency = threads;
        var limits = new PhotoLimits();
        var original = Fit(width, height, limits.OriginalMaxPixels);
        var small = Fit(width, height, limits.SmallMaxPixels);

        var folder = Path.Combine(Path.GetFullPath(options.String("dir") ?? Path.GetTempPath()), $"lenta-bench-{Guid.NewGuid():N}");
        try
        {
            var setup = new RunSetup(count, width, height, parallel, concurrency, save, original, small,
                cli.Version(), $"libvips {NetVips.NetVips.Version(0)}.{NetVips.NetVips.Version(1)}.{NetVips.NetVips.Version(2)}");
            Console.WriteLine($"photos: {count} JPEGs {width}×{height} (q {TestPhotos.Quality}), {parallel} workers, "
                + $"libvips threads per image: {concurrency?.ToString(CultureInfo.InvariantCulture) ?? "default"}; in {folder}");
            Console.WriteLine($"  boxes: original {original.Width}×{original.Height}, small {small.Width}×{small.Height}; "
                + $"vipsthumbnail = {setup.CliVersion}, NetVips = {setup.NetVipsVersion}");

            var generated = Stopwatch.StartNew();
            var inputs = TestPhotos.Generate(Path.Combine(folder, "in"), count, width, height, parallel);
            Console.WriteLine($"  generated in {generated.Elapsed.TotalSeconds:F1} s, {inputs.Average(p => new FileInfo(p).Length) / 1e6:F2} MB each on average");

            var baseline = Measure("vipsthumbnail (2 runs/photo)", inputs, Path.Combine(folder, "cli"), parallel, (input, output) =>
            {
                Directory.CreateDirectory(output);
                cli.Thumbnail(input, original.Width, original.Height, Path.Combine(output, "original.jpg"), save, concurrency);
                cli.Thumbnail(input, small.Width, small.Height, Path.Combine(output, "small.jpg"), save, concurrency);
            }, ct);
            Print(baseline);
            var ours = Measure("Lenta PhotoProcessor.Process", inputs, Path.Combine(folder, "ours"), parallel,
                (input, output) => PhotoProcessor.Process(input, output, limits), ct);
            Print(ours);

            var sides = new List<SideResult> { baseline, ours };
            if (options.String("s3") is { } s3Url)
            {
                var s3Options = new ObjectStoreOptions
                {
                    Provider = "s3", ServiceUrl = s3Url, AccessKey = options.String("s3-key") ?? "S3RVER", SecretKey = options.String("s3-secret") ?? "S3RVER",
                };
                foreach (var stores in new[] { PhotoJobStores.Disk(Path.Combine(folder, "stores")), await PhotoJobStores.S3Async(s3Options) })
                {
                    try
                    {
                        await stores.UploadAsync(inputs);
                        var job = Measure($"Lenta photo job, {stores.Name} stores", inputs, Path.Combine(folder, $"job-{sides.Count}"), parallel,
                            (input, output) => stores.Process(input, output, limits), ct);
                        Print(job);
                        sides.Add(job);
                    }
                    finally
                    {
                        await stores.DisposeAsync();
                    }
                }
            }

            var report = PhotosReport.Markdown(setup, sides);
            Console.WriteLine();
            Console.WriteLine(report);
            if (outFile is not null)
            {
                await File.WriteAllTextAsync(outFile, report, ct);
                Console.WriteLine($"Written to {Path.GetFullPath(outFile)}");
            }
            return 0;
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Warm-up on the first photo (not counted), then every photo, worker k taking photos k, k+P, k+2P… in turn.</summary>
    private static SideResult Measure(string name, string[] inputs, string folder, int parallel, Action<string, string> work, CancellationToken ct)
    {
        work(inputs[0], Path.Combine(folder, "warmup"));

        var latencies = new long[inputs.Length];
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, Math.Min(parallel, inputs.Length)).Select(k => Task.Factory.StartNew(() =>
        {
            for (var i = k; i < inputs.Length; i += parallel)
            {
                ct.ThrowIfCancellationRequested();
                var begin = Stopwatch.GetTimestamp();
                work(inputs[i], Path.Combine(folder, i.ToString("D3", CultureInfo.InvariantCulture)));
                latencies[i] = Stopwatch.GetTimestamp() - begin;
            }
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Task.WaitAll(workers, ct);
        var wall = Stopwatch.GetElapsedTime(start);

        Array.Sort(latencies);
        var outputs = Enumerable.Range(0, inputs.Length).Select(i => Path.Combine(folder, i.ToString("D3", CultureInfo.InvariantCulture))).ToArray();
        return new SideResult(name, inputs.Length, wall, inputs.Length / wall.TotalSeconds,
            Ms(Sample.Percentile(latencies, 50)), Ms(Sample.Percentile(latencies, 99)),
            Variant(outputs, "original.jpg"), Variant(outputs, "small.jpg"));
    }

    /// <summary>Size of the first photo's variant and the average file size over all photos.</summary>
    private static VariantInfo Variant(string[] outputs, string file)
    {
        using var first = Image.NewFromFile(Path.Combine(outputs[0], file));
        return new VariantInfo(first.Width, first.Height, outputs.Average(o => new FileInfo(Path.Combine(o, file)).Length));
    }

    private static void Print(SideResult r) =>
        Console.WriteLine($"  {r.Name,-30} {r.PerSecond,6:F2} photos/s  p50 {r.P50Ms,7:F0} ms  p99 {r.P99Ms,7:F0} ms  "
            + $"original {r.Original.Width}×{r.Original.Height} {r.Original.AverageBytes / 1e3:F0} kB  small {r.Small.Width}×{r.Small.Height} {r.Small.AverageBytes / 1e3:F1} kB");

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>PhotoProcessor's own rule (largest same-aspect size with at most maxPixels), so both sides aim at the same box.</summary>
    internal static (int Width, int Height) Fit(int width, int height, long maxPixels)
    {
        if ((long)width * height <= maxPixels)
            return (width, height);
        var scale = Math.Sqrt(maxPixels / ((double)width * height));
        return (Math.Max(1, (int)(width * scale)), Math.Max(1, (int)(height * scale)));
    }

    private static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.Split('x', 'X', '×');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && w is >= 16 and <= 20_000
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && h is >= 16 and <= 20_000)
            return (w, h);
        throw new UsageException($"--size must be WIDTHxHEIGHT with sides from 16 to 20000, not '{text}'.");
    }
}
