using System.Collections.Concurrent;
using Lenta.Bench.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lenta.Bench.Social;

/// <summary>
/// <c>ceiling</c>: the bare endpoint the <c>social</c> benchmark measures its ceiling on — the same web framework
/// (ASP.NET Core minimal APIs on Kestrel, slim builder, no logging) doing nothing but answering from memory.
/// <c>GET /bytes/N</c> returns an N-byte JSON body; <c>POST /bytes/N</c> reads the whole request body first (the
/// benchmark sends 1 KB) and returns the same. Started by <c>social</c> in its own process; listens on ASPNETCORE_URLS.
/// </summary>
internal static class CeilingCommand
{
    public static BenchCommand Command { get; } = new(
        "ceiling",
        "(started by 'social') a bare Kestrel endpoint: GET/POST /bytes/N answers N bytes from memory",
        "(no options; listens on ASPNETCORE_URLS)",
        RunAsync);

    private static readonly ConcurrentDictionary<int, byte[]> Bodies = new();

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        // The same JIT figures the server's /_diag/runtime gives, so the benchmark settles both the same way.
        app.MapGet("/_diag/runtime", () => Results.Text(
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"jit_methods\":{System.Runtime.JitInfo.GetCompiledMethodCount()},\"jit_ms\":{System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds}}}"),
            "application/json"));
        app.MapGet("/bytes/{n:int}", (int n) => Results.Bytes(Body(n), "application/json; charset=utf-8"));
        app.MapPost("/bytes/{n:int}", async (HttpContext context, int n) =>
        {
            var buffer = new byte[4096];
            while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
            {
            }
            return Results.Bytes(Body(n), "application/json; charset=utf-8");
        });
        await app.StartAsync(ct);
        await app.WaitForShutdownAsync(ct);
        return 0;
    }

    /// <summary>A JSON array of the right length (<c>["xxx…"]</c>), made once per size.</summary>
    private static byte[] Body(int n) => Bodies.GetOrAdd(Math.Clamp(n, 4, 10_000_000), size =>
    {
        var bytes = new byte[size];
        Array.Fill(bytes, (byte)'x');
        "[\""u8.CopyTo(bytes);
        "\"]"u8.CopyTo(bytes.AsSpan(size - 2));
        return bytes;
    });
}
