using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Lenta.Bench.Social;

/// <summary>The markdown report of a <c>social</c> run: setup, per-graph tables, and the Reed98 targets checked against the figures.</summary>
public static class SocialReport
{
    public static string Write(IReadOnlyList<GraphResult> graphs, RunSettings settings, IReadOnlyList<string> args)
    {
        var md = new StringBuilder();
        void Line(FormattableString s) => md.AppendLine(s.ToString(CultureInfo.InvariantCulture));

        Line($"Run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: `dotnet run --project bench/Lenta.Bench -c Release -- social{(args.Count > 0 ? " " + string.Join(' ', args) : "")}`");
        Line($"on {Environment.ProcessorCount} cores, {Machine()}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}.");
        if (settings.Cluster is { } port)
        {
            Line($"System under test: the local cluster of `scripts/cluster.sh` (base port {port}): nginx (2 workers) in front of two read-api nodes, a write-api node and a worker, on PostgreSQL, Redis, RabbitMQ and s3rver. The ceiling (`lenta-bench ceiling`) is proxied by the same nginx (its `/bytes/` location, the same proxy settings and upstream keepalive as the nodes'), so both paths pay nginx. \"Nodes CPU\" is the four nodes added up.");
            md.Append("Every process on this machine; the generator (HttpClient, HTTP/1.1 keep-alive) in its own.");
        }
        else
        {
            Line($"Stores: database {Setting("Lenta__Database__Provider", "sqlite")}, cache {Setting("Lenta__Cache__Provider", "memory")}, queue {Setting("Lenta__Queue__Provider", "local")}.");
            md.Append("Server and ceiling each in their own process; the generator (HttpClient, HTTP/1.1 keep-alive) in a third, all on this machine.");
        }
        Line($" Per run: {settings.Warmup.TotalSeconds:N0} s warm-up, {settings.Measure.TotalSeconds:N0} s measured; before each closed loop (server and ceiling alike) the workload runs unmeasured until the JIT compiled for under 20 ms in a second; closed loop with {settings.Connections} connections; open loops at {string.Join(", ", settings.Loads.Select(l => l.ToString("P0", CultureInfo.InvariantCulture)))} of the closed-loop maximum, latency from each request's intended send time.");
        md.AppendLine();

        foreach (var g in graphs)
        {
            var world = g.World;
            Line($"### {world.Graph.Name}: {world.Graph.Accounts:N0} accounts, {world.Graph.Follows.Count:N0} follows (most followed: {world.Graph.MaxFollowers:N0}), {world.StatusIds.Length:N0} posts, {world.ActorTokens.Length:N0} actors with tokens; seeded in {world.Took.TotalSeconds:N0} s");
            md.AppendLine();
            Line($"| workload | bytes per answer | max req/s (closed loop) | ceiling req/s (same size) | ratio | generator CPU | {(settings.Cluster is null ? "server" : "nodes")} CPU | errors |");
            Line($"|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in g.Rows)
                Line($"| {r.Workload.Name} | {r.Max.MeanResponseBytes:N0} | {r.Max.Throughput:N0} | {r.Ceiling.Throughput:N0} ({(r.Workload.Writes ? "POST 1 KB" : "GET")}) | **{r.Ratio:P0}** | {r.Max.GeneratorCpu:P0} | {r.Max.ServerCpu:P0} | {r.Max.Errors} |");
            md.AppendLine();
            Line($"Open loop at 50 % of each maximum (ms from intended send time):");
            md.AppendLine();
            Line($"| workload | offered req/s | done req/s | p50 | p90 | p99 | p99.9 | max | generator CPU | errors |");
            Line($"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in g.Rows)
            {
                var h = r.Half;
                Line($"| {r.Workload.Name} | {h.Offered:N0} | {h.Throughput:N0} | {h.Percentile(50):N2} | {h.Percentile(90):N2} | {h.Percentile(99):N2} | {h.Percentile(99.9):N2} | {h.Percentile(100):N1} | {h.GeneratorCpu:P0} | {h.Errors} |");
                if (r.Workload.Name == Workloads.Mix)
                {
                    foreach (var (kind, k) in h.ByKind.OrderBy(k => k.Key, StringComparer.Ordinal))
                        Line($"| &nbsp;&nbsp;↳ {kind} | | {k.TotalCount / settings.Measure.TotalSeconds:N0} | {k.GetValueAtPercentile(50) / 1000.0:N2} | {k.GetValueAtPercentile(90) / 1000.0:N2} | {k.GetValueAtPercentile(99) / 1000.0:N2} | {k.GetValueAtPercentile(99.9) / 1000.0:N2} | {k.GetValueAtPercentile(100) / 1000.0:N1} | | |");
                }
            }
            md.AppendLine();
            Line($"Throughput against offered rate (done req/s, p99 ms):");
            md.AppendLine();
            md.Append("| workload |").AppendJoin("", settings.Loads.Select(l => string.Create(CultureInfo.InvariantCulture, $" {l:P0} |"))).AppendLine();
            md.Append("|---|").AppendJoin("", settings.Loads.Select(_ => "---:|")).AppendLine();
            foreach (var r in g.Rows)
                md.Append(CultureInfo.InvariantCulture, $"| {r.Workload.Name} |").AppendJoin("", r.Open.Select(o => string.Create(CultureInfo.InvariantCulture, $" {o.Run.Offered:N0} → {o.Run.Throughput:N0}, {o.Run.Percentile(99):N1} |"))).AppendLine();
            md.AppendLine();
            if (g.Rows.Any(r => r.Max.Processes is not null))
                ProcessTable(md, g.Rows);
            if (g.Visibility is { } v)
                Line($"Visibility under the 50 % mix (post → in every follower's cached feed, measured inside the server): {v.Samples.Count:N0} posts fanned out (composed: {v.Composed:N0}), p50 {v.Percentile(50):N1} ms, p99 **{v.Percentile(99):N1} ms**, max {v.Percentile(100):N1} ms; mean followers reached {(v.Samples.Count == 0 ? 0 : v.Samples.Average(s => s.Followers)):N0}.");
            Line($"{(settings.Cluster is null ? "Server resident memory" : "The four nodes' resident memory added up")}: peak over the whole run {g.PeakRss / 1048576.0:N0} MiB (VmHWM; the closed-loop compose adds tens of thousands of posts), peak while the mix ran **{(g.MixPeakRss is { } m ? $"{m / 1048576.0:N0} MiB" : "–")}** (the mix runs first, on a freshly started server and the data as seeded), {g.Rss / 1048576.0:N0} MiB at the end.");
            md.AppendLine();
        }

        if (graphs.FirstOrDefault(g => g.World.Graph.Name == "reed98") is { } reed)
        {
            Line($"#### Targets (Reed98, ratios from this run)");
            md.AppendLine();
            Line($"| target | measured | met |");
            Line($"|---|---|---|");
            var mix = reed.Rows.FirstOrDefault(r => r.Workload.Name == Workloads.Mix);
            var home = reed.Rows.FirstOrDefault(r => r.Workload.Name == Workloads.Home);
            var fav = reed.Rows.FirstOrDefault(r => r.Workload.Name == Workloads.Favourite);
            if (settings.Cluster is not null)
            {
                // The cluster's own targets (its ceiling measured through the same nginx, every store on the same 2 cores).
                if (mix is not null)
                {
                    Target(md, "mix ≥ 10 % of the ceiling through the same nginx", $"{mix.Ratio:P0}", mix.Ratio >= 0.10);
                    Target(md, "mix p99 < 50 ms at 50 % load", $"{mix.Half.Percentile(99):N1} ms", mix.Half.Percentile(99) < 50);
                }
                md.AppendLine();
                return md.ToString();
            }
            if (mix is not null)
            {
                Target(md, "mix ≥ 25 % of the ceiling", $"{mix.Ratio:P0}", mix.Ratio >= 0.25);
                Target(md, "mix p99 < 25 ms at 50 % load", $"{mix.Half.Percentile(99):N1} ms", mix.Half.Percentile(99) < 25);
            }
            if (home is not null)
                Target(md, "read-home-timeline ≥ 40 % of the ceiling", $"{home.Ratio:P0}", home.Ratio >= 0.40);
            if (fav is not null)
                Target(md, "favourite ≥ 25 % of the 1 KB POST ceiling", $"{fav.Ratio:P0}", fav.Ratio >= 0.25);
            if (reed.Visibility is { } v)
                Target(md, "post visible in every follower's feed < 100 ms p99 under the 50 % mix", $"{v.Percentile(99):N1} ms", v.Percentile(99) < 100);
            if (reed.MixPeakRss is { } mixRss)
                Target(md, "server RSS < 400 MB on the mix", $"{mixRss / 1e6:N0} MB (whole run {reed.PeakRss / 1e6:N0} MB)", mixRss < 400e6);
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>Each process's share of the machine (all cores = 100 %) over each workload's closed loop, its ceiling and its 50 % open loop.</summary>
    private static void ProcessTable(StringBuilder md, IReadOnlyList<WorkloadResult> rows)
    {
        var names = rows.SelectMany(r => r.Max.Processes?.Keys ?? []).Distinct().ToList();
        md.AppendLine(CultureInfo.InvariantCulture, $"CPU per process, share of the machine ({Environment.ProcessorCount} cores = 100 %), from /proc/<pid>/stat before and after each run:");
        md.AppendLine();
        md.Append("| workload | run | req/s |").AppendJoin("", names.Select(n => $" {n} |")).AppendLine(" total |");
        md.Append("|---|---|---:|").AppendJoin("", names.Select(_ => "---:|")).AppendLine("---:|");
        foreach (var r in rows)
        {
            foreach (var (label, run) in new[] { ("closed loop", r.Max), ("ceiling", r.Ceiling), ("50 %", r.Half) })
            {
                if (run.Processes is not { } cpu)
                    continue;
                md.Append(CultureInfo.InvariantCulture, $"| {r.Workload.Name} | {label} | {run.Throughput:N0} |")
                    .AppendJoin("", names.Select(n => string.Create(CultureInfo.InvariantCulture, $" {cpu.GetValueOrDefault(n):P0} |")))
                    .AppendLine(CultureInfo.InvariantCulture, $" {cpu.Values.Sum():P0} |");
            }
        }
        md.AppendLine();
    }

    private static void Target(StringBuilder md, string target, string measured, bool met) =>
        md.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {measured} | {(met ? "yes" : "**no**")} |");

    private static string Setting(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

    private static string Machine()
    {
        var total = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var kb = total is null ? 0 : long.Parse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{cpu ?? "unknown CPU"}, {kb / 1048576.0:N0} GiB RAM");
    }
}
