using System.Text.Json;

namespace Lenta.Server.Platform.Jobs;

/// <summary>A job to write: which queue's workers run it, which handler (<see cref="Type"/>), and its JSON payload.</summary>
public sealed record JobRequest(string Queue, string Type, string Payload, TimeSpan? Delay = null)
{
    /// <summary>
    /// Attempts the job has had before it is written: a job that failed outside the queue (an in-process one) is
    /// written as that attempt's retry, so it gets no more attempts in all than any other job.
    /// </summary>
    public int AttemptsMade { get; init; }

    /// <summary>Why the last of <see cref="AttemptsMade"/> failed, shown (<see cref="JobInfo.LastError"/>) until the next attempt's outcome.</summary>
    public string? LastError { get; init; }

    public static JobRequest For<T>(string queue, string type, T payload, TimeSpan? delay = null) =>
        new(queue, type, JsonSerializer.Serialize(payload), delay);
}

/// <summary>A claimed job as its handler sees it. <see cref="Attempt"/> starts at 1.</summary>
public sealed record Job(long Id, string Queue, string Type, string Payload, int Attempt)
{
    public T Read<T>() => JsonSerializer.Deserialize<T>(Payload) ?? throw new PermanentJobFailureException($"Job {Id} has an empty payload.");
}

/// <summary>A job's state, for inspection (<see cref="IJobQueue.GetAsync"/>): <see cref="State"/> is ready, running or failed.</summary>
public sealed class JobInfo
{
    public long Id { get; init; }
    public string Queue { get; init; } = "";
    public string Type { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public int MaxAttempts { get; init; }
    public string? LastError { get; init; }
    public long RunAfter { get; init; }
    public long CreatedAt { get; init; }
}

/// <summary>
/// Runs jobs of one <see cref="Type"/>. Delivery is at least once (a crash after the work but before the
/// acknowledgement runs it again), so handlers must be idempotent. Throwing retries with backoff;
/// throwing <see cref="PermanentJobFailureException"/> ends the job failed at once.
/// </summary>
public interface IJobHandler
{
    string Type { get; }

    string Queue { get; }

    TimeSpan Timeout => TimeSpan.FromMinutes(10);

    Task HandleAsync(Job job, CancellationToken ct);
}

/// <summary>The job cannot succeed however often it is tried (bad payload, invalid input): fail it now with this reason.</summary>
public sealed class PermanentJobFailureException(string reason) : Exception(reason);
