using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using HdrHistogram;

namespace Lenta.Bench.Social;

/// <summary>One HTTP call a workload makes: its kind (for the mix's per-kind figures), method, path, bearer token and body.</summary>
public sealed record BenchRequest(string Kind, HttpMethod Method, string Path, string? Token, byte[]? Json);

/// <summary>What one run measured. Latencies are microseconds in HdrHistogram (1 µs – 60 s, 3 significant digits).</summary>
public sealed class RunResult
{
    public required string Workload { get; init; }

    /// <summary>Requests per second offered (open loop); 0 for a closed loop.</summary>
    public double Offered { get; init; }

    public required double Throughput { get; init; }

    public required long Completed { get; init; }

    public required long Errors { get; init; }

    public string? FirstError { get; init; }

    public required double MeanResponseBytes { get; init; }

    public required HistogramBase Latency { get; init; }

    public required IReadOnlyDictionary<string, HistogramBase> ByKind { get; init; }

    /// <summary>Share of the machine's CPU (all cores) this generator and the server used over the run, 0–1.</summary>
    public required double GeneratorCpu { get; init; }

    public required double ServerCpu { get; init; }

    /// <summary>Share of the machine's CPU each named process group used over the run (a cluster's nodes and stores), when measured.</summary>
    public IReadOnlyDictionary<string, double>? Processes { get; init; }

    public double Percentile(double p) => Latency.TotalCount == 0 ? double.NaN : Latency.GetValueAtPercentile(p) / 1000.0;
}

/// <summary>
/// The load generator: HTTP/1.1 keep-alive connections from <see cref="HttpClient"/> in this process.
/// Closed loop: N callers, each sending its next request when the previous answer is read (finds the maximum throughput).
/// Open loop: requests are scheduled at a constant rate and each latency is measured from its <em>intended</em> send
/// time, so a stalled server is charged for every request it delayed (no coordinated omission). Only requests that
/// complete (closed) or were due (open) inside the measured window count; a warm-up precedes it.
/// With <paramref name="processes"/>, each run also reports the CPU share of those process groups; with
/// <paramref name="jit"/>, the JIT's compile time is read from it instead of the target's <c>/_diag/runtime</c> (a target
/// of several processes behind a proxy).
/// </summary>
public sealed class LoadGenerator(Uri baseUrl, Func<TimeSpan> serverCpu, ProcessCpu? processes = null, Func<CancellationToken, Task<double>>? jit = null) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 512,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    })
    {
        BaseAddress = baseUrl,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public void Dispose() => _http.Dispose();

    public async Task<RunResult> ClosedAsync(string workload, Func<BenchRequest> next, int callers, TimeSpan warmup, TimeSpan measure, CancellationToken ct)
    {
        var run = new Run(workload);
        var cpu = CpuMark.Take(serverCpu, processes);
        var start = Stopwatch.GetTimestamp() + Ticks(warmup);
        var end = start + Ticks(measure);
        var loops = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end && !ct.IsCancellationRequested)
            {
                var request = next();
                var sent = Stopwatch.GetTimestamp();
                var outcome = await SendAsync(request, ct, keepBody: false);
                var done = Stopwatch.GetTimestamp();
                if (done >= start && done < end)
                    run.Record(request.Kind, done - sent, outcome);
            }
        }, ct)).ToArray();
        await Task.WhenAll(loops);
        return run.Result(0, run.Completed / measure.TotalSeconds, cpu.Shares(serverCpu, processes));
    }

    /// <summary>The JIT's compile time so far in the target process, milliseconds (its <c>/_diag/runtime</c>).</summary>
    public async Task<double> JitMillisecondsAsync(CancellationToken ct)
    {
        if (jit is not null)
            return await jit(ct);
        var outcome = await SendAsync(new BenchRequest("diag", HttpMethod.Get, "/_diag/runtime", null, null), ct);
        if (outcome.Error is not null)
            throw new InvalidOperationException($"reading /_diag/runtime failed: {outcome.Error}");
        using var doc = System.Text.Json.JsonDocument.Parse(outcome.Body);
        return doc.RootElement.GetProperty("jit_ms").GetDouble();
    }

    /// <summary>
    /// Runs the workload, unmeasured, in one-second closed loops until the target's JIT spent under
    /// <paramref name="quietMs"/> ms compiling during the last one (tier-1 recompilation of what the workload just
    /// started calling is done), or <paramref name="max"/> passed. Returns how long it ran and the JIT time it saw.
    /// </summary>
    public async Task<(TimeSpan Ran, double JitMs)> SettleAsync(Func<BenchRequest> next, int callers, TimeSpan max, double quietMs, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var first = await JitMillisecondsAsync(ct);
        var last = first;
        while (Stopwatch.GetElapsedTime(started) < max)
        {
            await ClosedAsync("settle", next, callers, TimeSpan.Zero, TimeSpan.FromSeconds(1), ct);
            var now = await JitMillisecondsAsync(ct);
            var spent = now - last;
            last = now;
            if (spent < quietMs)
                break;
        }
        return (Stopwatch.GetElapsedTime(started), last - first);
    }

    public async Task<RunResult> OpenAsync(string workload, Func<BenchRequest> next, double rate, TimeSpan warmup, TimeSpan measure, CancellationToken ct)
    {
        var run = new Run(workload);
        var cpu = CpuMark.Take(serverCpu, processes);
        var origin = Stopwatch.GetTimestamp();
        var start = origin + Ticks(warmup);
        var end = start + Ticks(measure);
        var interval = Stopwatch.Frequency / rate;
        var inFlight = new List<Task>();
        long completedInWindow = 0;
        for (long i = 0; !ct.IsCancellationRequested; i++)
        {
            var intended = origin + (long)(i * interval);
            if (intended >= end)
                break;
            var wait = intended - Stopwatch.GetTimestamp();
            if (wait > 0)
                await Task.Delay(TimeSpan.FromTicks(Math.Max(1, wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency)), ct);
            var request = next();
            var counts = intended >= start;
            inFlight.Add(SendOpenAsync(request, intended, counts));
            if (inFlight.Count >= 4096)
                inFlight.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(inFlight);
        return run.Result(rate, Interlocked.Read(ref completedInWindow) / measure.TotalSeconds, cpu.Shares(serverCpu, processes));

        async Task SendOpenAsync(BenchRequest request, long intended, bool counts)
        {
            await Task.Yield();
            var outcome = await SendAsync(request, ct, keepBody: false);
            var done = Stopwatch.GetTimestamp();
            if (done >= start && done < end)
                Interlocked.Increment(ref completedInWindow);
            if (counts)
                run.Record(request.Kind, done - intended, outcome);
        }
    }

    /// <summary>
    /// Sends one request and reads the whole answer; the outcome says how many bytes came back or what went wrong. With
    /// <paramref name="keepBody"/> false (the measured loops) a successful answer is read through a pooled buffer and
    /// dropped, so the generator does not allocate each answer (up to ~50 KB) on the machine it shares with the server.
    /// </summary>
    public async Task<Outcome> SendAsync(BenchRequest request, CancellationToken ct, bool keepBody = true)
    {
        try
        {
            using var message = new HttpRequestMessage(request.Method, request.Path);
            if (request.Token is not null)
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", request.Token);
            if (request.Json is not null)
                message.Content = new ByteArrayContent(request.Json) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
            else if (request.Method == HttpMethod.Post)
                message.Content = new ByteArrayContent([]);
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!keepBody && response.IsSuccessStatusCode)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(ct);
                var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
                try
                {
                    var total = 0;
                    int read;
                    while ((read = await stream.ReadAsync(buffer, ct)) > 0)
                        total += read;
                    return new Outcome(total, null, []);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            return response.IsSuccessStatusCode
                ? new Outcome(body.Length, null, body)
                : new Outcome(body.Length, $"{(int)response.StatusCode} {request.Method} {request.Path}: {System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(200, body.Length)))}", body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            return new Outcome(0, $"{request.Method} {request.Path}: {e.GetType().Name}: {e.Message}", []);
        }
    }

    private static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

    public sealed record Outcome(int Bytes, string? Error, byte[] Body);

    private sealed class Run(string workload)
    {
        private readonly LongConcurrentHistogram _all = NewHistogram();
        private readonly Dictionary<string, LongConcurrentHistogram> _byKind = [];
        private long _completed;
        private long _errors;
        private long _bytes;
        private string? _firstError;

        public long Completed => Interlocked.Read(ref _completed);

        public void Record(string kind, long stopwatchTicks, Outcome outcome)
        {
            var micros = Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 1, 60_000_000);
            if (outcome.Error is not null)
            {
                Interlocked.Increment(ref _errors);
                Interlocked.CompareExchange(ref _firstError, outcome.Error, null);
                return;
            }
            Interlocked.Increment(ref _completed);
            Interlocked.Add(ref _bytes, outcome.Bytes);
            _all.RecordValue(micros);
            LongConcurrentHistogram histogram;
            lock (_byKind)
            {
                if (!_byKind.TryGetValue(kind, out histogram!))
                    _byKind[kind] = histogram = NewHistogram();
            }
            histogram.RecordValue(micros);
        }

        public RunResult Result(double offered, double throughput, (double Generator, double Server, IReadOnlyDictionary<string, double>? Processes) cpu) => new()
        {
            Workload = workload,
            Offered = offered,
            Throughput = throughput,
            Completed = Completed,
            Errors = Interlocked.Read(ref _errors),
            FirstError = _firstError,
            MeanResponseBytes = Completed == 0 ? 0 : (double)Interlocked.Read(ref _bytes) / Completed,
            Latency = _all,
            ByKind = _byKind.ToDictionary(k => k.Key, k => (HistogramBase)k.Value),
            GeneratorCpu = cpu.Generator,
            ServerCpu = cpu.Server,
            Processes = cpu.Processes,
        };

        private static LongConcurrentHistogram NewHistogram() => new(1, 60_000_000, 3);
    }

    /// <summary>CPU time of this process, of the server and of the process groups at a moment, to turn into shares of the machine over a run.</summary>
    private sealed record CpuMark(long At, TimeSpan Generator, TimeSpan Server, ProcessCpu.Reading? Processes)
    {
        public static CpuMark Take(Func<TimeSpan> server, ProcessCpu? processes) =>
            new(Stopwatch.GetTimestamp(), Process.GetCurrentProcess().TotalProcessorTime, server(), processes?.Read());

        public (double Generator, double Server, IReadOnlyDictionary<string, double>? Processes) Shares(Func<TimeSpan> server, ProcessCpu? processes)
        {
            var wall = Stopwatch.GetElapsedTime(At).TotalSeconds * Environment.ProcessorCount;
            var groups = processes is null || Processes is null
                ? null
                : ProcessCpu.Used(Processes, processes.Read()).ToDictionary(p => p.Key, p => p.Value.TotalSeconds / wall, StringComparer.Ordinal);
            return ((Process.GetCurrentProcess().TotalProcessorTime - Generator).TotalSeconds / wall, (server() - Server).TotalSeconds / wall, groups);
        }
    }
}
