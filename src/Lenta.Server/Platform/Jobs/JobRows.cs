using Dapper;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Platform.Jobs;

/// <summary>The <c>jobs</c> table as both adapters keep it (the local queue's rows, the broker's outbox and record).</summary>
internal static class JobRows
{
    /// <summary>Longest last error kept on a row.</summary>
    private const int MaxError = 2000;

    private const string Columns =
        "id AS Id, queue AS Queue, type AS Type, state AS State, attempts AS Attempts, max_attempts AS MaxAttempts, last_error AS LastError, run_after AS RunAfter, created_at AS CreatedAt";

    /// <summary>
    /// Writes <paramref name="job"/> as a row in <paramref name="state"/>, in the caller's transaction; with
    /// <paramref name="claim"/>, already claimed by that node until then (its next attempt counted, as a claim counts it).
    /// </summary>
    public static Task InsertAsync(DbWrite write, long id, JobRequest job, string state, int maxAttempts, long now, (int Node, long Until)? claim = null) =>
        write.ExecuteAsync("""
            INSERT INTO jobs (id, queue, type, payload, state, attempts, max_attempts, run_after, last_error, created_at, locked_by, locked_until)
            VALUES (@id, @queue, @type, @payload, @state, @attempts, @max, @runAfter, @error, @now, @node, @until)
            """, new
        {
            id, queue = job.Queue, type = job.Type, payload = job.Payload, state, attempts = job.AttemptsMade + (claim is null ? 0 : 1), max = maxAttempts,
            runAfter = now + (long)(job.Delay?.TotalMilliseconds ?? 0), error = Truncate(job.LastError), now, node = claim?.Node, until = claim?.Until,
        });

    public static Task<JobInfo?> GetAsync(IDatabase db, long id, CancellationToken ct) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<JobInfo>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs WHERE id = @id", new { id }, cancellationToken: ct)), ct);

    public static async Task<IReadOnlyList<JobInfo>> ListFailedAsync(IDatabase db, int limit, CancellationToken ct) =>
        (await db.ReadAsync(c => c.QueryAsync<JobInfo>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs WHERE state = 'failed' ORDER BY id DESC LIMIT @limit", new { limit }, cancellationToken: ct)), ct)).ToList();

    /// <summary>Rows per state.</summary>
    public static Task<Dictionary<string, long>> CountByStateAsync(IDatabase db, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, COUNT(*) FROM jobs GROUP BY state", cancellationToken: ct))).ToDictionary(r => r.State, r => r.Count), ct);

    public static string? Truncate(string? s) => s is null || s.Length <= MaxError ? s : s[..MaxError];
}
