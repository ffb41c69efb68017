using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Lenta.Bench.Social;

/// <summary>
/// The local cluster of <c>scripts/cluster.sh</c> (PostgreSQL, Redis, RabbitMQ, s3rver, two read-api nodes, a write-api
/// node, a worker, nginx) as the system under test of <c>social --cluster PORT</c>: brought up with the benchmark's
/// node settings and its ceiling proxied by the same nginx (<c>LENTA_CLUSTER_CEILING</c>), torn down (<c>down</c>) on
/// dispose. Workloads go to the front; the nodes' CPU, memory and JIT are the sum of the four.
/// </summary>
public sealed class LocalCluster : ISystemUnderTest
{
    private static readonly string[] NodeNames = ["read1", "read2", "write", "worker"];
    private readonly string _script;
    private readonly string _dir;
    private readonly int _port;
    private readonly IReadOnlyDictionary<string, string?> _env;
    private readonly ProcessCpu _nodes;
    private readonly HttpClient _diag = new() { Timeout = TimeSpan.FromSeconds(10) };

    private LocalCluster(string script, string dir, int port, Uri front, ChildServer ceiling, IReadOnlyDictionary<string, string?> env)
    {
        _env = env;
        _script = script;
        _dir = dir;
        _port = port;
        Url = front;
        _nodes = new ProcessCpu(NodeNames.Select(n => (n, (Func<IEnumerable<int>>)(() => ProcessCpu.PidFile(Path.Combine(dir, n, "pid"))))).ToList());
        Processes = new ProcessCpu(
        [
            .. NodeNames.Select(n => (n, (Func<IEnumerable<int>>)(() => ProcessCpu.PidFile(Path.Combine(dir, n, "pid"))))),
            ("nginx", () => ProcessCpu.PidFile(Path.Combine(dir, "nginx", "nginx.pid"))),
            ("postgres", () => ProcessCpu.PidFile(Path.Combine(dir, "pg", "postmaster.pid"))),
            ("redis", () => ProcessCpu.PidFile(Path.Combine(dir, "redis", (port + 11).ToString(CultureInfo.InvariantCulture), "redis.pid"))),
            ("rabbitmq", () => ProcessCpu.CommandLineHolds(Path.Combine(dir, "rabbitmq") + "/")),
            ("ceiling", () => [ceiling.Pid]),
            ("generator", () => [Environment.ProcessId]),
        ]);
    }

    public Uri Url { get; }

    /// <summary>Fan-out runs on the worker: its samples are read from it, not through the front.</summary>
    public string FanOutPath => NodeUrl("worker") + "_diag/fanout";

    /// <summary>Four nodes idle together a little above one server: the quiet threshold is per node.</summary>
    public double QuietShare => 0.02 * NodeNames.Length;

    public LoadGenerator Load { get; private set; } = null!;

    /// <summary>The settings the seeder writes the cluster's stores with (its PostgreSQL, Redis, RabbitMQ and S3), read from the cluster's stores.env.</summary>
    public IReadOnlyDictionary<string, string?> Stores { get; private set; } = new Dictionary<string, string?>();

    /// <summary>
    /// Every process of the run by name, for per-process CPU: the four nodes, nginx (master and workers), PostgreSQL
    /// (postmaster and backends), Redis, RabbitMQ (the Erlang VM, by its data folder), the ceiling and this generator.
    /// </summary>
    public ProcessCpu Processes { get; }

    /// <summary>
    /// <c>cluster.sh up</c> in a folder of its own under the temp folder, the nodes with <paramref name="nodeEnvironment"/>
    /// and the front proxying <c>/bytes/</c> to <paramref name="ceiling"/>. Torn down again if it does not come up.
    /// </summary>
    public static async Task<LocalCluster> UpAsync(int port, ChildServer ceiling, IReadOnlyDictionary<string, string?> nodeEnvironment, Action<string> log, CancellationToken ct)
    {
        var script = Script();
        var dir = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"lenta-social-cluster-{port}"));
        var env = new Dictionary<string, string?>(nodeEnvironment)
        {
            ["LENTA_CLUSTER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["LENTA_CLUSTER_CEILING"] = ceiling.Url.Authority,
            ["LENTA_SERVER_DLL"] = ChildServer.ServerBinary() + ".dll",
        };
        log($"cluster: scripts/cluster.sh up {dir} (base port {port}) …");
        Uri front;
        try
        {
            front = new Uri((await RunAsync(script, ["up", dir], env, ct)).Trim().Split('\n')[^1]);
        }
        catch
        {
            await RunAsync(script, ["down", dir], env, CancellationToken.None);
            throw;
        }
        var cluster = new LocalCluster(script, dir, port, front, ceiling, env);
        try
        {
            var stores = (await RunAsync("/bin/bash", ["-c", "source \"$1\"; printf '%s\\n' \"$PG\" \"$REDIS\" \"$AMQP\" \"$S3\"", "-", Path.Combine(dir, "stores.env")], new Dictionary<string, string?>(), ct)).Split('\n');
            cluster.Stores = new Dictionary<string, string?>
            {
                ["Lenta:Database:Provider"] = "postgres",
                ["Lenta:Database:ConnectionString"] = stores[0] + ";Maximum Pool Size=40",
                ["Lenta:Cache:Provider"] = "redis",
                ["Lenta:Cache:ConnectionString"] = stores[1],
                ["Lenta:Queue:Provider"] = "rabbitmq",
                ["Lenta:Queue:ConnectionString"] = stores[2],
                ["Lenta:ObjectStore:Provider"] = "s3",
                ["Lenta:ObjectStore:ServiceUrl"] = stores[3],
                ["Lenta:ObjectStore:AccessKey"] = "S3RVER",
                ["Lenta:ObjectStore:SecretKey"] = "S3RVER",
            };
            cluster.Load = cluster.NewLoad();
            log($"cluster: front {front}, nodes {string.Join(", ", NodeNames.Select(n => $"{n} pid {ProcessCpu.PidFile(Path.Combine(dir, n, "pid")).FirstOrDefault()}"))}");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public TimeSpan CpuTime() => _nodes.Read().Total;

    /// <summary>The four nodes' resident sets added up: peak (each node's VmHWM) and current.</summary>
    public (long Peak, long Current) Memory()
    {
        long peak = 0, current = 0;
        foreach (var name in NodeNames)
        {
            foreach (var pid in ProcessCpu.PidFile(Path.Combine(_dir, name, "pid")))
            {
                var (p, c) = ChildServer.Memory(pid);
                peak += p;
                current += c;
            }
        }
        return (peak, current);
    }

    public string Describe() => $"cluster at {Url} ({string.Join(", ", NodeNames.Select(n => $"{n} pid {ProcessCpu.PidFile(Path.Combine(_dir, n, "pid")).FirstOrDefault()}"))})";

    public string Tail() => string.Join('\n', NodeNames.Select(n =>
    {
        var log = Path.Combine(_dir, n, "log");
        return $"--- {n}:\n" + (File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(10)) : "(no log)");
    }));

    /// <summary>Stops and starts the four nodes (their in-process state goes; the stores keep theirs).</summary>
    public async Task RestartAsync(CancellationToken ct)
    {
        Load.Dispose();
        foreach (var name in NodeNames)
            await RunAsync(_script, ["stop", name, _dir], _env, ct);
        // The write node first, as on the way up.
        foreach (var name in new[] { "write", "read1", "read2", "worker" })
            await RunAsync(_script, ["start", name, _dir], _env, ct);
        Load = NewLoad();
    }

    public async ValueTask DisposeAsync()
    {
        Load?.Dispose();
        _diag.Dispose();
        // Whatever happened (cancelled, failed): the cluster goes, with no token that could stop its teardown.
        await RunAsync(_script, ["down", _dir], _env, CancellationToken.None);
    }

    private LoadGenerator NewLoad() => new(Url, CpuTime, Processes, JitMillisecondsAsync);

    private string NodeUrl(string name) =>
        string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_port + 1 + Array.IndexOf(NodeNames, name)}/");

    /// <summary>The JIT's compile time summed over the nodes, each read directly (through the front, reads alternate between nodes).</summary>
    private async Task<double> JitMillisecondsAsync(CancellationToken ct)
    {
        double total = 0;
        foreach (var name in NodeNames)
        {
            using var doc = JsonDocument.Parse(await _diag.GetStringAsync(NodeUrl(name) + "_diag/runtime", ct));
            total += doc.RootElement.GetProperty("jit_ms").GetDouble();
        }
        return total;
    }

    /// <summary>scripts/cluster.sh of the checkout this tool was built in (bench/Lenta.Bench/bin/C/net10.0 → the root).</summary>
    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "scripts", "cluster.sh");
            if (File.Exists(script))
                return script;
        }
        throw new FileNotFoundException($"scripts/cluster.sh not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a script to its end, its stderr passed through (progress, failures), and returns its stdout.</summary>
    private static async Task<string> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?> env, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            start.Environment[k] = v;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            // Let it finish what it started (a half-started cluster is torn down by the caller's down).
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }
        var stdout = await output;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}");
        return stdout;
    }
}
