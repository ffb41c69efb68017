using System.Globalization;
using System.Text.Json;
using Lenta.Bench.Cli;

namespace Lenta.Bench.Social;

/// <summary>
/// <c>social</c>: DeathStarBench-shaped HTTP workloads against a real Lenta server process, each against the ceiling
/// of a bare Kestrel endpoint measured in the same run with the same generator. Per graph: seed (in-process, through
/// the server's own ports), start the server (the real binary, stores as configured by the caller's Lenta__* environment)
/// and the ceiling endpoint, warm every actor's feed, then per workload a closed loop (maximum throughput), the ceiling
/// at the same response size, and open loops at fractions of the maximum (latency from intended send time).
/// With <c>--cluster PORT</c> the system under test is the local cluster of <c>scripts/cluster.sh</c> on that base
/// port (seeded into its stores while it runs), every request and the ceiling's go through its nginx, and each run
/// reports the CPU of every process (nodes, nginx, PostgreSQL, Redis, RabbitMQ, ceiling, generator).
/// </summary>
internal static class SocialCommand
{
    public static BenchCommand Command { get; } = new(
        "social",
        "compose / home / user timeline / favourite / 60-30-10 mix over HTTP on Reed98 and power-law graphs, against a same-run Kestrel ceiling",
        "[--graphs reed98,powerlaw] [--workloads a,b] [--seconds 10] [--warmup 3] [--connections 64] [--load 0.25,0.5,0.75,1] [--cluster PORT] [--out DIR]",
        RunAsync);

    /// <summary>The cluster form's default: the workloads its targets name, on the graph they are set for.</summary>
    private static readonly string[] ClusterWorkloads = [Workloads.Mix, Workloads.Home, Workloads.Compose, Workloads.Favourite];

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var options = BenchOptions.Parse(args, "graphs", "workloads", "seconds", "warmup", "connections", "load", "cluster", "out");
        int? cluster = options.String("cluster") is null ? null : options.Int("cluster", 0, 1024, 65_000);
        var settings = new RunSettings(
            Graphs: (options.String("graphs") ?? (cluster is null ? "reed98,powerlaw" : "reed98")).Split(',', StringSplitOptions.RemoveEmptyEntries),
            Workloads: options.String("workloads")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? (cluster is null ? null : ClusterWorkloads),
            Measure: TimeSpan.FromSeconds(options.Seconds("seconds", 10, 1, 600)),
            Warmup: TimeSpan.FromSeconds(options.Seconds("warmup", 3, 0, 120)),
            Connections: options.Int("connections", 64, 1, 512),
            Loads: (options.String("load") ?? "0.25,0.5,0.75,1").Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
            Out: options.String("out"),
            Cluster: cluster);
        if (settings.Graphs.Except(["reed98", "powerlaw"]).FirstOrDefault() is { } unknown)
            throw new UsageException($"Unknown graph '{unknown}' (reed98, powerlaw).");
        if (settings.Workloads?.Except([Workloads.Mix, Workloads.Home, Workloads.User, Workloads.Favourite, Workloads.Compose]).FirstOrDefault() is { } unknownWorkload)
            throw new UsageException($"Unknown workload '{unknownWorkload}' ({Workloads.Mix}, {Workloads.Home}, {Workloads.User}, {Workloads.Favourite}, {Workloads.Compose}).");
        if (!settings.Loads.Contains(0.5))
            throw new UsageException("--load must include 0.5 (the latency run the targets are read from).");
        // RabbitMQ takes the cluster's base + 20 and the nine ports above; scripts/rabbitmq.sh refuses them in the ephemeral range.
        if (cluster + 20 >= 32_758 && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LENTA_CLUSTER_RABBITMQ_PORT")))
            throw new UsageException($"--cluster {cluster} puts RabbitMQ at {cluster + 20}, in the ephemeral port range: set LENTA_CLUSTER_RABBITMQ_PORT below 32758.");
        if (cluster is not null && settings.Graphs.Length > 1)
            throw new UsageException("--cluster runs one graph (its stores are seeded once): pass --graphs reed98 or --graphs powerlaw.");

        var results = new List<GraphResult>();
        foreach (var name in settings.Graphs)
            results.Add(await RunGraphAsync(name == "reed98" ? SocialGraph.Reed98() : SocialGraph.PowerLaw(), settings, ct));

        var report = SocialReport.Write(results, settings, args);
        Console.WriteLine();
        Console.WriteLine(report);
        if (settings.Out is { } folder)
        {
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "social.md"), report, ct);
            SocialPlots.Write(results, folder);
            Console.WriteLine($"Wrote {Path.Combine(folder, "social.md")} and the plots next to it.");
        }
        return 0;
    }

    private static async Task<GraphResult> RunGraphAsync(SocialGraph graph, RunSettings settings, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"lenta-social-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var lenta = Seeder.Settings(folder);
            var env = Seeder.ServerEnvironment(lenta);
            await using var ceiling = await ChildServer.StartAsync(Path.Combine(AppContext.BaseDirectory, "lenta-bench"), ["ceiling"], new Dictionary<string, string?>(), "/bytes/4", ct);
            // The cluster runs while it is seeded: its caches are Redis's, which the seeder fills as the nodes would.
            await using var cluster = settings.Cluster is { } port ? await LocalCluster.UpAsync(port, ceiling, env, Log, ct) : null;
            if (cluster is not null)
                lenta = new Dictionary<string, string?>(lenta.Concat(cluster.Stores));
            Log($"{graph.Name}: seeding {graph.Accounts:N0} accounts, {graph.Follows.Count:N0} follows, {graph.PostCount:N0} posts …");
            var world = await Seeder.SeedAsync(graph, lenta, Log, ct);

            // The ceiling through the same front as the workloads: on the cluster, nginx's /bytes/ (JIT read from the ceiling itself).
            using var direct = new LoadGenerator(ceiling.Url, ceiling.CpuTime);
            using var bare = cluster is null ? null : new LoadGenerator(cluster.Url, ceiling.CpuTime, cluster.Processes, direct.JitMillisecondsAsync);
            await using var single = cluster is null ? await SingleServer.StartAsync(env, ct) : null;
            ISystemUnderTest server = (ISystemUnderTest?)cluster ?? single!;
            var ceilingLoad = bare ?? direct;
            await WarmAsync(graph, world, server, ct);
            Log($"{graph.Name}: {server.Describe()}, ceiling pid {ceiling.Pid}");
            var rows = new List<WorkloadResult>();
            Visibility? visibility = null;
            long? mixPeak = null;
            long runPeak = 0;
            foreach (var workload in Workloads.For(world).Where(w => settings.Workloads is null || settings.Workloads.Contains(w.Name)))
            {
                await DrainAsync(server, ct);
                runPeak = Math.Max(runPeak, server.Memory().Peak);
                if (workload.Name == Workloads.Mix)
                {
                    // The mix runs on a freshly started server (it runs first; when it does not, the server is restarted
                    // on the same data), so its memory is its own, not what another workload left in the cache and heap.
                    if (rows.Count > 0)
                    {
                        await server.RestartAsync(ct);
                        await WarmAsync(graph, world, server, ct);
                    }
                    // Unmeasured: the mix's own caches (posts, pages, flags) fill, as on a server that has been up a while.
                    await server.Load.ClosedAsync("warm", workload.Next, settings.Connections, TimeSpan.Zero, settings.Measure, ct);
                    await DrainAsync(server, ct);
                    Log($"{graph.Name}: server {(rows.Count > 0 ? "restarted" : "started")} for the mix ({server.Describe()}) and warmed with {settings.Measure.TotalSeconds:N0} s of it");
                }
                var load = server.Load;
                var settled = await load.SettleAsync(workload.Next, settings.Connections, SettleAtMost, SettledJitMs, ct);
                await DrainAsync(server, ct);
                Log($"{graph.Name}/{workload.Name}: JIT settled after {settled.Ran.TotalSeconds:N0} s of it ({settled.JitMs:N0} ms compiling); closed loop, {settings.Connections} connections");
                var jitBefore = await load.JitMillisecondsAsync(ct);
                var max = await load.ClosedAsync(workload.Name, workload.Next, settings.Connections, settings.Warmup, settings.Measure, ct);
                var jit = await load.JitMillisecondsAsync(ct) - jitBefore;
                Log($"  {max.Throughput:N0} req/s, p50 {max.Percentile(50):N2} ms, {max.Errors} errors{(max.FirstError is null ? "" : $" (first: {max.FirstError})")}, {max.MeanResponseBytes:N0} B/response, JIT {jit:N0} ms during it{Cpu(max)}");
                var ceilingNext = Workloads.Ceiling(workload.Writes, (int)max.MeanResponseBytes);
                // The server finishes what the closed loop left (fan-out jobs, likes to fold) before the ceiling runs
                // beside it: its leftover work would take CPU from the ceiling's measurement.
                await DrainAsync(server, ct);
                await ceilingLoad.SettleAsync(ceilingNext, settings.Connections, SettleAtMost, SettledJitMs, ct);
                var top = await ceilingLoad.ClosedAsync("ceiling", ceilingNext, settings.Connections, settings.Warmup, settings.Measure, ct);
                Log($"  ceiling ({(workload.Writes ? "POST 1 KB" : "GET")} → {(int)max.MeanResponseBytes:N0} B): {top.Throughput:N0} req/s{Cpu(top)}");
                var open = new List<(double Fraction, RunResult Run)>();
                foreach (var fraction in settings.Loads)
                {
                    var rate = Math.Max(1, max.Throughput * fraction);
                    var before = fraction == 0.5 && workload.Name == Workloads.Mix ? await FanOutSamplesAsync(server, ct) : null;
                    await DrainAsync(server, ct);
                    var run = await load.OpenAsync(workload.Name, workload.Next, rate, settings.Warmup, settings.Measure, ct);
                    open.Add((fraction, run));
                    Log($"  open loop {fraction:P0} = {rate:N0} req/s offered → {run.Throughput:N0} done/s, p50 {run.Percentile(50):N2} p99 {run.Percentile(99):N2} p99.9 {run.Percentile(99.9):N2} ms, {run.Errors} errors{Cpu(run)}");
                    if (before is not null)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(2), ct);
                        var after = await FanOutSamplesAsync(server, ct);
                        var known = before.Select(s => s.StatusId).ToHashSet();
                        var fresh = after.Where(s => !known.Contains(s.StatusId)).ToList();
                        visibility = new Visibility(run.ByKind.TryGetValue(Workloads.Compose, out var c) ? c.TotalCount : 0, fresh);
                        Log($"  visibility: {fresh.Count} posts fanned out, p50 {visibility.Percentile(50):N1} p99 {visibility.Percentile(99):N1} max {visibility.Percentile(100):N1} ms");
                    }
                }
                rows.Add(new WorkloadResult(workload, max, top, open));
                if (workload.Name == Workloads.Mix)
                {
                    mixPeak = server.Memory().Peak;
                    Log($"  server peak RSS during the mix {mixPeak / 1048576.0:N0} MiB");
                }
            }
            var memory = server.Memory();
            runPeak = Math.Max(runPeak, memory.Peak);
            Log($"{graph.Name}: server peak RSS over the run {runPeak / 1048576.0:N0} MiB, now {memory.Current / 1048576.0:N0} MiB");
            return new GraphResult(world, rows.OrderBy(r => Workloads.DisplayOrder(r.Workload.Name)).ToList(), visibility, runPeak, mixPeak, memory.Current);
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Reads every actor's home feed once (activity, cached timelines), as a server that has been up a while.</summary>
    private static async Task WarmAsync(SocialGraph graph, SeededWorld world, ISystemUnderTest server, CancellationToken ct)
    {
        Log($"{graph.Name}: warming every actor's home feed");
        await Parallel.ForEachAsync(world.ActorTokens, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (token, c) =>
        {
            var outcome = await server.Load.SendAsync(new BenchRequest("warm", HttpMethod.Get, "/api/v1/timelines/home?limit=20", token, null), c);
            if (outcome.Error is not null)
                throw new InvalidOperationException($"warm-up failed: {outcome.Error}\n{server.Tail()}");
        });
    }

    /// <summary>The processes' CPU shares of a run, when measured (the cluster), for the log.</summary>
    private static string Cpu(RunResult run) => run.Processes is null
        ? ""
        : "; CPU " + string.Join(", ", run.Processes.Where(p => p.Value >= 0.005).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:P0}")));

    /// <summary>
    /// Waits until the server's job queue is empty (a closed-loop compose leaves a fan-out backlog behind) and then until
    /// the server is quiet — under 2 % of one core (per process) over two seconds — so that work a run left behind
    /// (fan-out jobs, likes to fold, a background GC) is not charged to the next run. Logs the wait when it took over a second.
    /// </summary>
    private static async Task DrainAsync(ISystemUnderTest server, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            var outcome = await server.Load.SendAsync(new BenchRequest("health", HttpMethod.Get, "/health/ready", null, null), ct);
            using var health = JsonDocument.Parse(outcome.Body);
            var queue = health.RootElement.GetProperty("checks").GetProperty("queue").GetProperty("data");
            var left = queue.GetProperty("ready").GetInt64() + queue.GetProperty("running").GetInt64();
            if (left == 0)
                break;
            if (DateTime.UtcNow - started > TimeSpan.FromMinutes(10))
                throw new TimeoutException($"the server's job queue still holds {left} jobs after 10 minutes");
            await Task.Delay(200, ct);
        }
        var queued = DateTime.UtcNow - started;
        var quiet = false;
        while (!quiet && DateTime.UtcNow - started < TimeSpan.FromMinutes(2))
        {
            var before = server.CpuTime();
            await Task.Delay(QuietWindow, ct);
            quiet = server.CpuTime() - before < QuietWindow * server.QuietShare;
        }
        if (DateTime.UtcNow - started > TimeSpan.FromSeconds(1))
            Log($"  (waited {queued.TotalSeconds:N1} s for the job queue to drain, {(DateTime.UtcNow - started - queued).TotalSeconds:N1} s more for the server to go quiet{(quiet ? "" : ": it did not, in 2 minutes")})");
    }

    // Longer than the server's periodic background work (likes are folded about once a second), so a window cannot fall
    // between two folds of a backlog.
    private static readonly TimeSpan QuietWindow = TimeSpan.FromSeconds(2);

    private static async Task<List<FanOutSample>> FanOutSamplesAsync(ISystemUnderTest server, CancellationToken ct)
    {
        var outcome = await server.Load.SendAsync(new BenchRequest("diag", HttpMethod.Get, server.FanOutPath, null, null), ct);
        if (outcome.Error is not null)
            throw new InvalidOperationException($"reading fan-out samples failed: {outcome.Error}");
        return JsonSerializer.Deserialize<List<FanOutSample>>(outcome.Body) ?? [];
    }

    /// <summary>
    /// Before each closed loop the workload runs unmeasured until the JIT compiled for under 20 ms in a second (2 % of a
    /// core), at most 30 s: .NET recompiles hot methods at tier 1 (after an instrumented tier where PGO is on) for seconds
    /// after a code path starts being called, which is start-up, not the server's steady cost. The ceiling gets the same.
    /// </summary>
    private static readonly TimeSpan SettleAtMost = TimeSpan.FromSeconds(30);

    private const double SettledJitMs = 20;

    private static void Log(string line) => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");
}

/// <param name="Cluster">the base port of the local cluster measured instead of one server process, if any</param>
public sealed record RunSettings(string[] Graphs, string[]? Workloads, TimeSpan Measure, TimeSpan Warmup, int Connections, double[] Loads, string? Out, int? Cluster);

public sealed record WorkloadResult(Workload Workload, RunResult Max, RunResult Ceiling, IReadOnlyList<(double Fraction, RunResult Run)> Open)
{
    public double Ratio => Max.Throughput / Ceiling.Throughput;

    /// <summary>The open loop at 50 % of the maximum: the latency figures and targets come from it.</summary>
    public RunResult Half => Open.First(o => o.Fraction == 0.5).Run;
}

/// <param name="MixPeakRss">the server's peak resident set while the mix ran (closed loop, ceiling, open loops), if it ran</param>
public sealed record GraphResult(SeededWorld World, IReadOnlyList<WorkloadResult> Rows, Visibility? Visibility, long PeakRss, long? MixPeakRss, long Rss);

public sealed class FanOutSample
{
    [System.Text.Json.Serialization.JsonPropertyName("status_id")]
    public string StatusId { get; init; } = "";

    [System.Text.Json.Serialization.JsonPropertyName("followers")]
    public int Followers { get; init; }

    [System.Text.Json.Serialization.JsonPropertyName("pushed")]
    public int Pushed { get; init; }

    [System.Text.Json.Serialization.JsonPropertyName("ms_from_post")]
    public double MillisecondsFromPost { get; init; }
}

/// <summary>Post-to-last-push times (measured inside the server) of the posts composed during the 50 % mix.</summary>
public sealed record Visibility(long Composed, IReadOnlyList<FanOutSample> Samples)
{
    public double Percentile(double p) =>
        Samples.Count == 0 ? double.NaN : Measurement.Sample.Percentile(Samples.Select(s => s.MillisecondsFromPost).Order().ToArray(), p);
}
