using System.Net;
using System.Net.Sockets;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Cluster;

/// <summary>
/// The local cluster of scripts/cluster.sh, started once for the cluster suite on <c>LENTA_TEST_CLUSTER_PORT</c> (its base
/// port; the script's layout above it) with the server built beside the tests: nginx in front of two read nodes, a write
/// node and a worker, on PostgreSQL, Redis, RabbitMQ and s3rver of its own. Without the variable the suite is skipped,
/// unless <c>LENTA_TEST_REQUIRE_CLUSTER=1</c> (the test command, CI) makes that a failure.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private string? _unavailable;
    private string _dir = "";
    private string _script = "";
    private int _base;

    /// <summary>The nginx front.</summary>
    public Uri Front { get; private set; } = null!;

    /// <summary>A read node directly, past nginx (1 or 2).</summary>
    public Uri ReadNode(int n) => new($"http://127.0.0.1:{_base + n}/");

    public Uri WriteNode => new($"http://127.0.0.1:{_base + 3}/");

    /// <summary>A client of the front whose connections come from <paramref name="source"/> (any 127.x.y.z: all loopback).</summary>
    public HttpClient Client(IPAddress? source = null, TimeSpan? timeout = null) => From(Front, source ?? IPAddress.Loopback, timeout);

    public static HttpClient From(Uri address, IPAddress source, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = address, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
    }

    /// <summary>
    /// Signs a user up from a loopback address of its own: sign-ups are limited per client address (5 per 30 minutes by
    /// default, kept here), and nginx hands Lenta the address the connection came from.
    /// </summary>
    public async Task<Mastodon.User> SignUpAsync()
    {
        var b = Random.Shared.GetItems<byte>([.. Enumerable.Range(1, 254).Select(i => (byte)i)], 3);
        using var http = Client(new IPAddress([127, b[0], b[1], b[2]]));
        return await new Mastodon(http).SignUpAsync();
    }

    public void Require()
    {
        if (_unavailable is not null)
        {
            if (Environment.GetEnvironmentVariable("LENTA_TEST_REQUIRE_CLUSTER") == "1")
                throw new InvalidOperationException(_unavailable);
            Assert.Skip(_unavailable);
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("LENTA_TEST_CLUSTER_PORT"), out _base))
        {
            _unavailable = "No cluster port: run the tests through ./test.sh (sets LENTA_TEST_CLUSTER_PORT).";
            return;
        }
        _script = RepoScripts.Find("cluster.sh");
        _dir = Path.Combine(Path.GetTempPath(), $"lenta-test-cluster-{_base}");
        // ~1.5 minutes on an idle machine (RabbitMQ's boot the longest part); a loaded one has taken over 4.
        var (code, output) = await RunAsync(TimeSpan.FromMinutes(8), "up");
        if (code != 0)
            throw new InvalidOperationException($"scripts/cluster.sh up failed ({code}):\n{output}");
        Front = new Uri(output.Trim().Split('\n')[^1].Trim() + "/");
    }

    /// <summary>Runs scripts/cluster.sh with <paramref name="args"/> (the cluster's folder added last); its exit code and output.</summary>
    public async Task<(int Code, string Output)> RunAsync(TimeSpan timeout, params string[] args)
    {
        // The general request limit is per token: the load loops make far more requests than 300 per 5 minutes. The
        // sign-up limit stays at its default, keyed on the client address that nginx forwards.
        var environment = new Dictionary<string, string>
        {
            ["LENTA_CLUSTER_PORT"] = _base.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["LENTA_SERVER_DLL"] = Path.Combine(AppContext.BaseDirectory, "Lenta.Server.dll"),
            ["Lenta__RateLimits__Requests"] = "1000000",
            ["Lenta__Queue__PollIntervalMs"] = "200",
            ["Lenta__Feed__TimelineSize"] = "2000",   // above what the loads compose: every post stays in every home
        };
        var (code, stdout, stderr) = await RepoScripts.RunAsync(_script, [.. args, _dir], timeout, environment);
        return (code, code == 0 ? stdout : stdout + stderr);
    }

    /// <summary>Runs scripts/cluster.sh and fails the test on a non-zero exit.</summary>
    public async Task RunOkAsync(params string[] args)
    {
        var (code, output) = await RunAsync(TimeSpan.FromMinutes(3), args);
        Assert.True(code == 0, $"scripts/cluster.sh {string.Join(' ', args)} failed ({code}):\n{output}");
    }

    /// <summary>
    /// What the nodes logged about the requests named in <paramref name="details"/> (a 500's body names its request id):
    /// each node's log from the line naming one, up to 40 lines, so a failed drill shows the exception behind it.
    /// </summary>
    public string LoggedErrors(IEnumerable<string> details)
    {
        var ids = details.Select(d => System.Text.RegularExpressions.Regex.Match(d, @"\(request ([^)]+)\)"))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        var found = new System.Text.StringBuilder();
        foreach (var log in Directory.Exists(_dir) ? Directory.GetFiles(_dir, "log", SearchOption.AllDirectories) : [])
        {
            var lines = File.ReadAllLines(log);
            foreach (var id in ids)
            {
                var at = Array.FindIndex(lines, l => l.Contains(id, StringComparison.Ordinal));
                if (at >= 0)
                    found.AppendLine($"{log}:").AppendJoin('\n', lines.Skip(at).Take(40)).AppendLine();
            }
        }
        return found.Length > 0 ? found.ToString() : $"(no node log names {string.Join(", ", ids)})";
    }

    public async ValueTask DisposeAsync()
    {
        if (_unavailable is null && _script.Length > 0)
            await RunAsync(TimeSpan.FromMinutes(2), "down");
    }
}
