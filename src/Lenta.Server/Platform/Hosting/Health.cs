using System.Text.Json.Serialization;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lenta.Server.Platform.Hosting;

public sealed record HealthReportBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("checks")] Dictionary<string, HealthCheckBody> Checks);

public sealed record HealthCheckBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("data")] Dictionary<string, long>? Data);

[JsonSerializable(typeof(HealthReportBody))]
internal sealed partial class HealthJson : JsonSerializerContext;

/// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: every configured store answers too.</summary>
public static class Health
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddLentaHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .Add(Ping("database", (sp, ct) => sp.GetRequiredService<IDatabase>().PingAsync(ct)))
            .Add(Ping("cache", (sp, ct) => sp.GetRequiredService<ICache>().PingAsync(ct)))
            .Add(Ping("object_store", async (sp, ct) =>
            {
                var stores = sp.GetRequiredService<ObjectStores>();
                await PingStoreAsync("raw", stores.Raw, ct);
                await PingStoreAsync("processed", stores.Processed, ct);
            }))
            .Add(new HealthCheckRegistration("queue", sp => new ProbeCheck(async ct =>
            {
                var queue = sp.GetRequiredService<IJobQueue>();
                await queue.PingAsync(ct);
                var counts = await queue.CountAsync(ct);
                return new Dictionary<string, object> { ["ready"] = counts.Ready, ["running"] = counts.Running, ["failed"] = counts.Failed };
            }), null, ["ready"]));
        return services;
    }

    public static WebApplication MapLentaHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = Write });
        return app;
    }

    private static HealthCheckRegistration Ping(string name, Func<IServiceProvider, CancellationToken, Task> ping) =>
        new(name, sp => new ProbeCheck(async ct =>
        {
            await ping(sp, ct);
            return null;
        }), null, ["ready"]);

    /// <summary>The check's description says which of the two stores failed.</summary>
    private static async Task PingStoreAsync(string name, IObjectStore store, CancellationToken ct)
    {
        try
        {
            await store.PingAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new IOException($"{name} store: {e.Message}", e);
        }
    }

    /// <summary>Healthy when the probe answers within the timeout; its data (if any) is shown.</summary>
    private sealed class ProbeCheck(Func<CancellationToken, Task<Dictionary<string, object>?>> probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(CheckTimeout);
                var data = await probe(timeout.Token);
                return HealthCheckResult.Healthy(null, data);
            }
            catch (Exception e)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        }
    }

    private static Task Write(HttpContext context, HealthReport report)
    {
        var body = new HealthReportBody(
            report.Status == HealthStatus.Healthy ? "ok" : "unavailable",
            report.Entries.ToDictionary(
                e => e.Key,
                e => new HealthCheckBody(
                    e.Value.Status == HealthStatus.Healthy ? "ok" : "unavailable",
                    e.Value.Description,
                    e.Value.Data.Count == 0 ? null : e.Value.Data.ToDictionary(d => d.Key, d => Convert.ToInt64(d.Value, System.Globalization.CultureInfo.InvariantCulture)))));
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(body, HealthJson.Default.HealthReportBody);
    }
}
