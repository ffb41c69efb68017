using Lenta.Server.Host;
using Lenta.Server.Platform.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// A real Lenta server on Kestrel, in this process, listening on a free 127.0.0.1 port with its own data
/// folder: tests talk to it over real HTTP. Settings use the configuration keys of the README
/// (<c>Lenta:Database:Provider</c> = <c>Lenta__Database__Provider</c>).
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsData;
    private readonly Func<ValueTask>? _stopFront;

    private TestServer(WebApplication app, string dataPath, bool ownsData, Uri address, Func<ValueTask>? stopFront = null, IReadOnlyList<TestServer>? nodes = null)
    {
        _app = app;
        DataPath = dataPath;
        _ownsData = ownsData;
        _stopFront = stopFront;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        Nodes = nodes?.Select(n => n.Services).ToArray() ?? [app.Services];
        Origin = nodes is null ? Http : nodes.First(n => n._app.Configuration["Lenta:Roles"] == "read-api").Http;
    }

    /// <summary>The services of every process answering for this server: this one, or every node behind the front.</summary>
    public IReadOnlyList<IServiceProvider> Nodes { get; }

    /// <summary>
    /// A client of the origin: this server, or behind the front a read node directly, past nginx's edge cache of
    /// <c>/system/</c> (which keeps serving an object it holds after the object is deleted, until evicted).
    /// </summary>
    public HttpClient Origin { get; }

    /// <summary>GET of <paramref name="url"/> (one of this server's, e.g. <c>/system/…</c>) from the <see cref="Origin"/>: whether a deleted object is gone from the stores.</summary>
    public Task<HttpResponseMessage> GetFromOriginAsync(Uri url) => Origin.GetAsync(url.PathAndQuery);

    public Uri Address { get; }

    public HttpClient Http { get; }

    public string DataPath { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server; <paramref name="port"/> fixes the port (a restart keeps its address, so its OAuth issuer), else a free one is taken.</summary>
    public static async Task<TestServer> StartAsync(IDictionary<string, string?>? settings = null, string? dataPath = null, int port = 0, Action<IServiceCollection>? decorate = null)
    {
        var ownsData = dataPath is null;
        dataPath ??= TempFolder.Create("lenta-server");
        var all = new Dictionary<string, string?>
        {
            ["Lenta:DataPath"] = dataPath,
            ["Lenta:LogFormat"] = "text",
            ["Lenta:Diagnostics"] = "true",
            ["Lenta:Queue:PollIntervalMs"] = "100",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
            all[k] = v;

        var app = LentaHost.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(all);
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }, decorate);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, dataPath, ownsData, new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal) + "/"));
    }

    /// <summary>
    /// The cluster of <see cref="Front"/> as one server: <see cref="Address"/> and <see cref="Http"/> are the nginx front,
    /// <see cref="Services"/> and <see cref="DataPath"/> those of the first of <paramref name="nodes"/> (the write
    /// node); disposing it runs <paramref name="stop"/>, which stops the front and every node.
    /// </summary>
    public static TestServer Behind(IReadOnlyList<TestServer> nodes, Uri front, Func<ValueTask> stop) =>
        new(nodes[0]._app, nodes[0].DataPath, ownsData: false, front, stop, nodes);

    public async ValueTask DisposeAsync()
    {
        if (_stopFront is not null)
        {
            Http.Dispose();
            await _stopFront();
            return;
        }
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsData)
            TempFolder.Delete(DataPath);
    }
}

public static class TempFolder
{
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
