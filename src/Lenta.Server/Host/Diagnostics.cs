using System.Text.Json.Serialization;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;

using Lenta.Server.Platform.Hosting;

namespace Lenta.Server.Host;

/// <summary>
/// Endpoints under <c>/_diag</c> that let a test drive the job queue of a real server process (enqueue jobs,
/// see which ran) and a benchmark read the JIT's work (<c>/_diag/runtime</c>). Mapped only when
/// <c>Lenta__Diagnostics=true</c>; never enabled in production.
/// </summary>
public static class Diagnostics
{
    public const string Queue = "diag";

    public static IServiceCollection AddLentaDiagnostics(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, DiagMigrations>();
        services.AddSingleton<IJobHandler, DiagRecordHandler>();
        return services;
    }

    public static WebApplication MapLentaDiagnostics(this WebApplication app, ServerRoles roles)
    {
        var group = app.MapGroup("/_diag").ExcludeFromDescription();
        group.MapGet("/runtime", Runtime);
        if (roles.HasFlag(ServerRoles.WriteApi))
        {
            group.MapPost("/jobs", EnqueueAsync);
            group.MapPost("/throw", Throw);
        }
        if (roles.HasFlag(ServerRoles.ReadApi))
        {
            group.MapGet("/jobs/runs", RunsAsync);
            group.MapGet("/jobs/{id:long}", JobAsync);
        }
        return app;
    }

    /// <summary>
    /// The JIT's work so far (methods compiled, time spent compiling, all threads): a benchmark waits for it to settle
    /// before measuring, so tier-1 recompilation of what it just started calling is not counted as the server's steady cost.
    /// </summary>
    private static IResult Runtime() => TypedResults.Json(
        new DiagRuntime(System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds),
        DiagJson.Default.DiagRuntime);

    private static IResult Throw() => throw new InvalidOperationException("secret detail that must not leak");

    /// <summary>Enqueues <c>count</c> jobs, each in its own write (as real features do); answers once all are durable.</summary>
    private static async Task<IResult> EnqueueAsync(IDatabase db, IJobQueue queue, int count = 1, int sleepMs = 0, int failTimes = 0, bool permanent = false)
    {
        if (count is < 1 or > 10_000)
            return ApiErrors.Result(422, "count must be between 1 and 10000");
        var payload = new DiagPayload(sleepMs, failTimes, permanent);
        var ids = await Task.WhenAll(Enumerable.Range(0, count).Select(_ =>
            db.WriteAsync(w => queue.EnqueueAsync(w, JobRequest.For(Queue, DiagRecordHandler.JobType, payload)))));
        return TypedResults.Json(new DiagIds(ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()), DiagJson.Default.DiagIds);
    }

    private static async Task<IResult> RunsAsync(IDatabase db)
    {
        var rows = await db.ReadAsync(async c => (await c.QueryAsync<DiagRun>("SELECT job_id AS JobId, runs AS Runs FROM diag_job_runs ORDER BY job_id")).ToArray());
        return TypedResults.Json(rows.Select(r => new DiagRunBody(r.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Runs)).ToArray(), DiagJson.Default.DiagRunBodyArray);
    }

    private static async Task<IResult> JobAsync(IJobQueue queue, long id)
    {
        var job = await queue.GetAsync(id);
        return job is null
            ? ApiErrors.Result(404, "Record not found")
            : TypedResults.Json(new DiagJob(job.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), job.State, job.Attempts, job.LastError), DiagJson.Default.DiagJob);
    }

    private sealed class DiagRun
    {
        public long JobId { get; init; }
        public int Runs { get; init; }
    }
}

public sealed record DiagPayload(int SleepMs, int FailTimes, bool Permanent);

public sealed record DiagIds([property: JsonPropertyName("ids")] string[] Ids);

public sealed record DiagRunBody([property: JsonPropertyName("job_id")] string JobId, [property: JsonPropertyName("runs")] int Runs);

public sealed record DiagJob(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("last_error")] string? LastError);

public sealed record DiagRuntime([property: JsonPropertyName("jit_methods")] long JitMethods, [property: JsonPropertyName("jit_ms")] double JitMs);

[JsonSerializable(typeof(DiagIds))]
[JsonSerializable(typeof(DiagRuntime))]
[JsonSerializable(typeof(DiagRunBody[]))]
[JsonSerializable(typeof(DiagJob))]
internal sealed partial class DiagJson : JsonSerializerContext;

public sealed class DiagMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_90_diag_job_runs", "CREATE TABLE diag_job_runs (job_id BIGINT PRIMARY KEY, runs INTEGER NOT NULL)"),
    ];
}

/// <summary>Sleeps, optionally fails its first attempts, then records that it ran (idempotently: a rerun only bumps the count).</summary>
public sealed class DiagRecordHandler(IDatabase db) : IJobHandler
{
    public const string JobType = "diag.record";

    public string Type => JobType;

    public string Queue => Diagnostics.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var p = job.Read<DiagPayload>();
        if (p.SleepMs > 0)
            await Task.Delay(p.SleepMs, ct);
        if (job.Attempt <= p.FailTimes)
        {
            if (p.Permanent)
                throw new PermanentJobFailureException($"diag job told to fail permanently (attempt {job.Attempt})");
            throw new InvalidOperationException($"diag job told to fail (attempt {job.Attempt})");
        }
        await db.WriteAsync(w => w.ExecuteAsync("""
            INSERT INTO diag_job_runs (job_id, runs) VALUES (@id, 1)
            ON CONFLICT (job_id) DO UPDATE SET runs = diag_job_runs.runs + 1
            """, new { id = job.Id }), ct);
    }
}
