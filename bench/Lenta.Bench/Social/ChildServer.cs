using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Lenta.Bench.Social;

/// <summary>
/// A server under test in its own process (the real Lenta server binary, or the bare ceiling endpoint), so its CPU time
/// and peak RSS are its own and the generator's are ours. Stopped (process tree killed) on dispose.
/// </summary>
public sealed class ChildServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ChildServer(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public int Pid => _process.Id;

    /// <summary>The real server, built next to this tool (bench/Lenta.Bench/bin/C/net10.0 → src/Lenta.Server/bin/C/net10.0).</summary>
    public static string ServerBinary()
    {
        var own = AppContext.BaseDirectory.TrimEnd('/');
        var path = own.Replace("/bench/Lenta.Bench/", "/src/Lenta.Server/", StringComparison.Ordinal) + "/Lenta.Server";
        return File.Exists(path) ? path : throw new FileNotFoundException($"the server binary is not at {path}; build the bench (it builds the server)");
    }

    public static async Task<ChildServer> StartAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?> env, string readyPath, CancellationToken ct)
    {
        var port = FreePort();
        var url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            start.Environment[k] = v;
        start.Environment["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/');
        start.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var child = new ChildServer(process, url);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
                throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {process.ExitCode}:\n{child.Tail()}");
            try
            {
                using var r = await http.GetAsync(new Uri(url, readyPath), ct);
                if (r.IsSuccessStatusCode)
                    return child;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{Path.GetFileName(file)} was not ready in 2 minutes:\n{child.Tail()}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>User + system CPU time the process has used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Peak resident set (VmHWM) and current resident set (VmRSS) in bytes, from /proc.</summary>
    public (long Peak, long Current) Memory() => Memory(Pid);

    /// <summary>Peak resident set (VmHWM) and current resident set (VmRSS) of a process in bytes, from /proc.</summary>
    public static (long Peak, long Current) Memory(int pid)
    {
        long peak = 0, current = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                peak = Kilobytes(line) * 1024;
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                current = Kilobytes(line) * 1024;
        }
        return (peak, current);
    }

    public string Tail()
    {
        lock (_output)
            return string.Join('\n', _output.TakeLast(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > 200)
                _output.RemoveRange(0, 100);
        }
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
