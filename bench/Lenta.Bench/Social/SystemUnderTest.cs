namespace Lenta.Bench.Social;

/// <summary>
/// What <c>social</c> measures: one server process (<see cref="SingleServer"/>) or the local cluster behind nginx
/// (<see cref="LocalCluster"/>). The workloads go to <see cref="Url"/> through <see cref="Load"/>; CPU and memory are
/// the Lenta processes' own.
/// </summary>
public interface ISystemUnderTest : IAsyncDisposable
{
    Uri Url { get; }

    /// <summary>The generator the workloads run on, replaced by a restart.</summary>
    LoadGenerator Load { get; }

    /// <summary>Where the fan-out samples (<c>/_diag/fanout</c>) are read: the process that fans out.</summary>
    string FanOutPath { get; }

    /// <summary>Share of one core under which the Lenta processes count as quiet between runs.</summary>
    double QuietShare { get; }

    TimeSpan CpuTime();

    (long Peak, long Current) Memory();

    string Describe();

    string Tail();

    /// <summary>Starts the Lenta processes again on the same stores (the mix's memory is then its own).</summary>
    Task RestartAsync(CancellationToken ct);
}

/// <summary>The real server binary in one child process, on the stores its environment configures.</summary>
public sealed class SingleServer : ISystemUnderTest
{
    private readonly IReadOnlyDictionary<string, string?> _env;
    private ChildServer _server;

    private SingleServer(IReadOnlyDictionary<string, string?> env, ChildServer server)
    {
        _env = env;
        _server = server;
        Load = new LoadGenerator(server.Url, server.CpuTime);
    }

    public Uri Url => _server.Url;

    public LoadGenerator Load { get; private set; }

    public string FanOutPath => "/_diag/fanout";

    public double QuietShare => 0.02;

    public static async Task<SingleServer> StartAsync(IReadOnlyDictionary<string, string?> env, CancellationToken ct) =>
        new(env, await ChildServer.StartAsync(ChildServer.ServerBinary(), [], env, "/health/ready", ct));

    public TimeSpan CpuTime() => _server.CpuTime();

    public (long Peak, long Current) Memory() => _server.Memory();

    public string Describe() => $"server pid {_server.Pid} at {_server.Url}";

    public string Tail() => _server.Tail();

    public async Task RestartAsync(CancellationToken ct)
    {
        Load.Dispose();
        await _server.DisposeAsync();
        _server = await ChildServer.StartAsync(ChildServer.ServerBinary(), [], _env, "/health/ready", ct);
        Load = new LoadGenerator(_server.Url, _server.CpuTime);
    }

    public async ValueTask DisposeAsync()
    {
        Load.Dispose();
        await _server.DisposeAsync();
    }
}
