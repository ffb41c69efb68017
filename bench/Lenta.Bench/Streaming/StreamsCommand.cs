using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Lenta.Bench.Cli;
using Lenta.Bench.Social;

namespace Lenta.Bench.Streaming;

/// <summary>
/// <c>streams</c>: thousands of open <c>user</c> streams (WebSockets at <c>/api/v1/streaming</c>) of Reed98 accounts while
/// the social mix runs at a fixed rate against the real server process. Reports the delivery lag of every <c>update</c>
/// frame (the post's <c>created_at</c>, stamped in its transaction, to the frame's arrival here; same machine, same
/// clock), the server's own lag and counts from <c>/_diag/streaming</c> (commit → frame written), and the server's
/// memory per socket (resident set after the sockets opened minus before, over the sockets).
/// </summary>
internal static class StreamsCommand
{
    public static BenchCommand Command { get; } = new(
        "streams",
        "open N user streams (WebSockets) of Reed98 accounts while the 60-30-10 mix runs; delivery lag and memory per socket",
        "[--sockets 2000] [--rate 400] [--seconds 30] [--warmup 3]",
        RunAsync);

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var options = BenchOptions.Parse(args, "sockets", "rate", "seconds", "warmup");
        var sockets = options.Int("sockets", 2000, 1, 50_000);
        var rate = options.Int("rate", 400, 1, 100_000);
        var measure = TimeSpan.FromSeconds(options.Seconds("seconds", 30, 1, 600));
        var warmup = TimeSpan.FromSeconds(options.Seconds("warmup", 3, 0, 120));
        var graph = SocialGraph.Reed98();

        var folder = Path.Combine(Path.GetTempPath(), $"lenta-streams-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var lenta = Seeder.Settings(folder);
            Log($"seeding {graph.Name}: {graph.Accounts:N0} accounts, {graph.Follows.Count:N0} follows, {graph.PostCount:N0} posts …");
            var world = await Seeder.SeedAsync(graph, lenta, Log, ct);
            var env = Seeder.ServerEnvironment(lenta);
            await using var server = await ChildServer.StartAsync(ChildServer.ServerBinary(), [], env, "/health/ready", ct);
            using var load = new LoadGenerator(server.Url, server.CpuTime);
            Log($"server pid {server.Pid} at {server.Url}; warming every actor's home feed");
            await Parallel.ForEachAsync(world.ActorTokens, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (token, c) =>
                await load.SendAsync(new BenchRequest("warm", HttpMethod.Get, "/api/v1/timelines/home?limit=20", token, null), c));
            await Task.Delay(TimeSpan.FromSeconds(2), ct);

            var before = server.Memory().Current;
            var frames = new Frames();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var open = new List<(ClientWebSocket Socket, Task Reading)>(sockets);
            var wsBase = new UriBuilder(server.Url) { Scheme = "ws", Path = "/api/v1/streaming" }.Uri;
            var opening = System.Diagnostics.Stopwatch.StartNew();
            var gate = new SemaphoreSlim(32);
            var tasks = Enumerable.Range(0, sockets).Select(async i =>
            {
                await gate.WaitAsync(ct);
                try
                {
                    var socket = new ClientWebSocket();
                    socket.Options.KeepAliveInterval = TimeSpan.Zero;
                    var token = world.ActorTokens[i % world.ActorTokens.Length];
                    await socket.ConnectAsync(new Uri(wsBase, $"?stream=user&access_token={Uri.EscapeDataString(token)}"), ct);
                    lock (open)
                        open.Add((socket, Task.Run(() => ReadAsync(socket, frames, stop.Token), CancellationToken.None)));
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(tasks);
            Log($"{open.Count:N0} user streams open in {opening.Elapsed.TotalSeconds:N1} s");
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            var opened = server.Memory().Current;
            var diagOpen = await DiagAsync(load, ct);

            var mix = Workloads.For(world).First(w => w.Name == Workloads.Mix);
            frames.Clear();
            var run = await load.OpenAsync(mix.Name, mix.Next, rate, warmup, measure, ct);
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var after = server.Memory();
            var diag = await DiagAsync(load, ct);
            var composed = run.ByKind.TryGetValue(Workloads.Compose, out var c) ? c.TotalCount : 0;

            await stop.CancelAsync();
            foreach (var (socket, _) in open)
                socket.Abort();
            await Task.WhenAll(open.Select(o => o.Reading));
            foreach (var (socket, _) in open)
                socket.Dispose();

            var lags = frames.Lags();
            var load1 = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            string Ms(double v) => v.ToString("N1", CultureInfo.InvariantCulture);
            Console.WriteLine($"""

                ## streams: {open.Count:N0} user streams of {graph.Name} accounts under the 60-30-10 mix

                lenta-bench streams {string.Join(' ', args)}   (load average at the end {load1})

                | figure | value |
                |---|---|
                | mix offered / done | {rate:N0} / {run.Throughput:N0} req/s, p50 {Ms(run.Percentile(50))} p99 {Ms(run.Percentile(99))} ms, {run.Errors} errors |
                | posts composed in the window | {composed:N0} |
                | update frames received (warm-up, window, 2 s after) | {lags.Length:N0}, {frames.Other:N0} other frames |
                | delivery lag, created_at → frame received | p50 {Ms(Pct(lags, 50))}, p99 {Ms(Pct(lags, 99))}, max {Ms(Pct(lags, 100))} ms |
                | server lag (/_diag/streaming, commit → written, last 4,096) | p50 {Ms(diag.GetProperty("lag_ms_p50").GetDouble())}, p99 {Ms(diag.GetProperty("lag_ms_p99").GetDouble())}, max {Ms(diag.GetProperty("lag_ms_max").GetDouble())} ms |
                | server delivered / dropped | {diag.GetProperty("delivered").GetDouble():N0} / {diag.GetProperty("dropped").GetDouble():N0}; open sockets {diagOpen.GetProperty("open_sockets").GetDouble():N0} |
                | server RSS before / with the sockets / after the mix | {before / 1048576.0:N0} / {opened / 1048576.0:N0} / {after.Current / 1048576.0:N0} MiB (peak {after.Peak / 1048576.0:N0}) |
                | RSS per open socket | {(opened - before) / (double)Math.Max(1, open.Count) / 1024:N1} KiB |
                | server CPU over the window | {run.ServerCpu:P0} of the machine |
                """);
            return 0;
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

    private static async Task<JsonElement> DiagAsync(LoadGenerator load, CancellationToken ct)
    {
        var outcome = await load.SendAsync(new BenchRequest("diag", HttpMethod.Get, "/_diag/streaming", null, null), ct);
        if (outcome.Error is not null)
            throw new InvalidOperationException($"/_diag/streaming: {outcome.Error}");
        return JsonDocument.Parse(outcome.Body).RootElement.Clone();
    }

    /// <summary>Reads frames until the socket closes or the run ends; each <c>update</c>'s lag from its post's <c>created_at</c>.</summary>
    private static async Task ReadAsync(ClientWebSocket socket, Frames frames, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            while (!ct.IsCancellationRequested && socket.State == WebSocketState.Open)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), ct);
                    length += result.Count;
                }
                while (!result.EndOfMessage && length < buffer.Length);
                if (result.MessageType == WebSocketMessageType.Close)
                    return;
                var received = DateTimeOffset.UtcNow;
                frames.Add(buffer.AsSpan(0, length), received);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(sorted.Length * p / 100) - 1, 0, sorted.Length - 1)];

    private sealed class Frames
    {
        private readonly Lock _gate = new();
        private readonly List<double> _lags = [];
        private long _other;

        public long Other => Interlocked.Read(ref _other);

        public void Add(ReadOnlySpan<byte> frame, DateTimeOffset received)
        {
            using var doc = JsonDocument.Parse(frame.ToArray());
            if (doc.RootElement.GetProperty("event").GetString() != "update")
            {
                Interlocked.Increment(ref _other);
                return;
            }
            using var payload = JsonDocument.Parse(doc.RootElement.GetProperty("payload").GetString()!);
            var created = DateTimeOffset.Parse(payload.RootElement.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture);
            lock (_gate)
                _lags.Add((received - created).TotalMilliseconds);
        }

        public void Clear()
        {
            lock (_gate)
                _lags.Clear();
            Interlocked.Exchange(ref _other, 0);
        }

        public double[] Lags()
        {
            lock (_gate)
                return _lags.Order().ToArray();
        }
    }

    private static void Log(string line) => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");
}
