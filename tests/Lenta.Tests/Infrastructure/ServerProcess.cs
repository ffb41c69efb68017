using System.Diagnostics;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// Lenta as a real OS process (the built Lenta.Server.dll beside the tests), for crash tests: it can be
/// killed with SIGKILL at any moment and started again on the same data folder.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public int Pid => _process.Id;

    /// <summary>Whether a process named <paramref name="name"/> (its <c>comm</c>) runs as a child of this server now.</summary>
    public bool HasChild(string name)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                // /proc/PID/stat: "PID (comm) state PPID ..."; comm may hold spaces, so read from its closing parenthesis.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var comm = stat[(stat.IndexOf('(') + 1)..close];
                var parent = stat[(close + 2)..].Split(' ')[1];
                if (comm == name && parent == Pid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return false;
    }

    public HttpClient Http { get; }

    public string Output
    {
        get
        {
            lock (_output)
                return string.Join('\n', _output);
        }
    }

    public static ProcessStartInfo StartInfo(IDictionary<string, string> env, int port)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Lenta.Server.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory };
        info.ArgumentList.Add(dll);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["Lenta__LogFormat"] = "text";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (k, v) in env)
            info.Environment[k] = v;
        return info;
    }

    public static async Task<ServerProcess> StartAsync(IDictionary<string, string> env, int? port = null)
    {
        var p = port ?? FreePort();
        var process = Process.Start(StartInfo(env, p)) ?? throw new InvalidOperationException("dotnet did not start");
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{p}/"));
        process.OutputDataReceived += (_, e) => server.Capture(e.Data);
        process.ErrorDataReceived += (_, e) => server.Capture(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitReadyAsync();
        return server;
    }

    /// <summary>Runs the server expecting it to refuse to start; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IDictionary<string, string> env, TimeSpan timeout)
    {
        var (code, stdout, stderr) = await ChildProcess.RunAsync(StartInfo(env, FreePort()), timeout,
            _ => "The server kept running although it was expected to refuse to start.");
        return (code, stdout + stderr);
    }

    private void Capture(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Add(line);
    }

    private async Task WaitReadyAsync()
    {
        // Generous: on a loaded machine a process that opens PostgreSQL, RabbitMQ and S3 at start has taken over a minute.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The server exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await Http.GetAsync("health/ready");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The server did not become ready:\n{Output}");
    }

    /// <summary>The process's resident memory now (VmRSS of /proc/PID/status), in bytes.</summary>
    public long ResidentBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a power cut of the process.</summary>
    public void Kill9()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
