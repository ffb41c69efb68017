using System.Diagnostics;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// A redis-server of one test's own (the binary the test command installed), for tests that flush, stop or restart
/// Redis under a running server without disturbing the shared test servers. It keeps nothing on disk.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private Process? _process;

    private readonly string _maxMemory;

    private PrivateRedis(int port, string maxMemory)
    {
        Port = port;
        _maxMemory = maxMemory;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string.</summary>
    public string Configuration => $"127.0.0.1:{Port},abortConnect=false";

    /// <param name="maxMemory">Redis's <c>maxmemory</c>; past it keys are evicted, least recently used first</param>
    public static async Task<PrivateRedis> StartAsync(string maxMemory = "256mb")
    {
        _ = Redis.Single; // skips (or fails under the test command) where Redis is not installed
        var redis = new PrivateRedis(ServerProcess.FreePort(), maxMemory);
        await redis.StartAgainAsync();
        return redis;
    }

    /// <summary>Starts the server (again) on its port.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--maxmemory", _maxMemory, "--maxmemory-policy", "allkeys-lru", "--zset-max-listpack-entries", "1024" })
            info.ArgumentList.Add(arg);
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.WaitAsync(() => Task.FromResult(Answers()), ok => ok, TimeSpan.FromSeconds(10), "redis-server to accept connections");
    }

    /// <summary>Kills the server (as a crash or a lost machine would take it): everything it held is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        await SignalAsync("-CONT"); // a frozen process dies only once it runs
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Freezes the server (SIGSTOP), as a partition or a stalled machine would: connections stay open, nothing answers, nothing is lost.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>Lets a frozen server go on (SIGCONT) with everything it held.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>How many keys Redis has evicted for want of memory (<c>INFO stats</c>).</summary>
    public async Task<long> EvictedKeysAsync()
    {
        var info = await CommandAsync("*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n");
        var line = info.Split("\r\n").First(l => l.StartsWith("evicted_keys:", StringComparison.Ordinal));
        return long.Parse(line["evicted_keys:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>FLUSHALL, as an operator (or a lost memory) would empty it.</summary>
    public async Task FlushAllAsync() =>
        Assert.StartsWith("+OK", await CommandAsync("*1\r\n$8\r\nFLUSHALL\r\n"), StringComparison.Ordinal);

    /// <summary>One command in RESP, its reply as text (small replies: one read).</summary>
    private async Task<string> CommandAsync(string resp)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(resp));
        var reply = new byte[64 * 1024];
        var n = await stream.ReadAsync(reply);
        return System.Text.Encoding.ASCII.GetString(reply, 0, n);
    }

    private bool Answers()
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
