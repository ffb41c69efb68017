using System.Globalization;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// The suite's front mode, <c>LENTA_TEST_FRONT=nginx</c> (the test command's second run of the PostgreSQL classes): a
/// PostgreSQL fixture starts Lenta as deployed instead of one server. A write-api node, two read-api nodes and a worker,
/// each in this process with its own <c>Lenta:NodeId</c> and data folder, share the fixture's fresh database, a Redis key
/// prefix, a RabbitMQ queue prefix and a pair of S3 buckets of their own (<see cref="Distributed"/>), and an nginx in front
/// of them runs deploy/nginx/lenta.conf as scripts/cluster.sh renders it (<c>front-up</c>). Every node's public URL is
/// the front's and it trusts the front's forwarded headers. The test talks to the front only; the test classes that
/// cannot (they restart a server, read one process's logs) carry <see cref="NotThroughFrontAttribute"/> and a reason; the rest <see cref="ThroughFrontAttribute"/>.
/// </summary>
public static class Front
{
    public static bool Enabled => Environment.GetEnvironmentVariable("LENTA_TEST_FRONT") == "nginx";

    /// <summary>The nodes and the front for a fixture's <paramref name="fixtureSettings"/>, as one <see cref="TestServer"/>.</summary>
    public static async Task<TestServer> StartAsync(Dictionary<string, string?> fixtureSettings, Action<IServiceCollection>? decorate)
    {
        var root = Environment.GetEnvironmentVariable("LENTA_TEST_FRONT_DIR") is { Length: > 0 } r ? r : Path.GetTempPath();
        var dir = Path.Combine(root, $"front-{Guid.NewGuid():N}");
        var port = NextFrontPort();
        var front = new Uri($"http://127.0.0.1:{port}/");

        // The fixture's own settings (its Redis prefix, its buckets, a media base URL) over the shared stores'.
        var settings = await Distributed.SettingsAsync();
        foreach (var (key, value) in fixtureSettings)
            settings[key] = value;
        settings["Lenta:PublicUrl"] = $"http://127.0.0.1:{port}";
        settings["Lenta:TrustedProxies"] = "127.0.0.1";

        var nodes = new List<TestServer>();
        async ValueTask StopAsync()
        {
            await ScriptAsync("front-down", dir);
            foreach (var node in nodes)
                await node.DisposeAsync();
        }
        try
        {
            // The write node first: it migrates the database, the others find it done.
            nodes.Add(await TestServer.StartAsync(Distributed.With(settings, "write-api", 21), decorate: decorate));
            var others = new[] { ("read-api", 11), ("read-api", 12), ("worker", 31) }
                .Select(n => TestServer.StartAsync(Distributed.With(settings, n.Item1, n.Item2), decorate: decorate)).ToArray();
            try
            {
                await Task.WhenAll(others);
            }
            finally
            {
                nodes.AddRange(others.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }
            var (write, read1, read2) = (nodes[0].Address.Port, nodes[1].Address.Port, nodes[2].Address.Port);
            var (code, output) = await ScriptAsync("front-up", dir, Str(port), Str(write), Str(read1), Str(read2));
            if (code != 0)
                throw new InvalidOperationException($"scripts/cluster.sh front-up failed ({code}):\n{output}");
            return TestServer.Behind(nodes, front, StopAsync);
        }
        catch
        {
            await StopAsync();
            throw;
        }
    }

    private static int _frontPorts = -1;

    /// <summary>
    /// The next port for a front's nginx. Under the test command they come from <c>LENTA_TEST_FRONT_PORT</c> and the 999
    /// after it, below the kernel's ephemeral range (32768–60999): a port picked by binding to 0 and released lies in that
    /// range, and a client socket could take it in the seconds before nginx binds it. Each is checked free before use.
    /// </summary>
    private static int NextFrontPort()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("LENTA_TEST_FRONT_PORT"), CultureInfo.InvariantCulture, out var first))
            return ServerProcess.FreePort();
        for (var tries = 0; tries < 1000; tries++)
        {
            var port = first + Interlocked.Increment(ref _frontPorts) % 1000;
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Held by a front of an earlier run or another process: the next one.
            }
        }
        throw new InvalidOperationException($"No free front port in {first}–{first + 999}.");
    }

    private static string Str(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static async Task<(int Code, string Output)> ScriptAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RepoScripts.RunAsync(RepoScripts.Find("cluster.sh"), args, TimeSpan.FromMinutes(1));
        return (code, stdout + stderr);
    }
}

/// <summary>The class runs a second time through the front in the test command (trait <c>Front=nginx</c>).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ThroughFrontAttribute : Attribute, Xunit.v3.ITraitAttribute
{
    public IReadOnlyCollection<KeyValuePair<string, string>> GetTraits() => [new("Front", "nginx")];
}

/// <summary>
/// A class on a PostgreSQL fixture that cannot run through the front, and why in one line (trait <c>Front=excluded</c>);
/// README's testing section lists them.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class NotThroughFrontAttribute(string reason) : Attribute, Xunit.v3.ITraitAttribute
{
    public string Reason { get; } = reason;

    public IReadOnlyCollection<KeyValuePair<string, string>> GetTraits() => [new("Front", "excluded")];
}
