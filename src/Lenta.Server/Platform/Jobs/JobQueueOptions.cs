namespace Lenta.Server.Platform.Jobs;

/// <summary><c>Lenta__Queue__*</c>: the durable job queue.</summary>
public sealed class JobQueueOptions
{
    public const string Section = "Lenta:Queue";

    /// <summary>
    /// Which adapter holds the jobs: <c>local</c>, rows of the database's <c>jobs</c> table that the workers of every
    /// node claim (<see cref="LocalJobQueue"/>), or <c>rabbitmq</c>, published from that table (the outbox) to RabbitMQ
    /// queues that workers consume (<see cref="RabbitMq.RabbitJobQueue"/>).
    /// </summary>
    public string Provider { get; set; } = "local";

    /// <summary>The broker's <c>amqp://user:password@host:port/vhost</c> URI, for <c>rabbitmq</c>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Prefix of every queue name on the broker, so that several installations can share one virtual host.</summary>
    public string QueuePrefix { get; set; } = "lenta.";

    /// <summary>How often an idle worker looks for jobs it was not woken for (delayed retries, other nodes' jobs).</summary>
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>How long a claimed job stays reserved without a heartbeat before another worker may take it.</summary>
    public int LeaseSeconds { get; set; } = 120;

    /// <summary>Attempts before a job ends in the failed state.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First retry delay; doubles each attempt, capped at one hour.</summary>
    public int BackoffBaseMs { get; set; } = 1000;

    /// <summary>
    /// How long a job waits for its next attempt after attempt <paramref name="attempt"/> failed: <see cref="BackoffBaseMs"/>
    /// doubled per attempt, capped at one hour, ±20 % so that jobs which failed together (a dependency down) do not all
    /// come back at the same moment.
    /// </summary>
    public TimeSpan RetryDelay(int attempt)
    {
        var ms = BackoffBaseMs * Math.Pow(2, Math.Clamp(attempt - 1, 0, 20));
        ms = Math.Min(ms, TimeSpan.FromHours(1).TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    /// <summary>
    /// Concurrent jobs per queue, e.g. <c>Lenta__Queue__Concurrency__video=2</c>; video gets 1 (an encoder fills both
    /// cores), feed 8 (a fan-out job is short and mostly waits for its claim and completion to commit, so more slots
    /// share each group commit), others 2.
    /// </summary>
    public Dictionary<string, int> Concurrency { get; set; } = new(StringComparer.OrdinalIgnoreCase) { ["video"] = 1, ["feed"] = 8 };

    public int ConcurrencyOf(string queue) => Concurrency.TryGetValue(queue, out var n) && n > 0 ? n : 2;

    /// <summary>
    /// Jobs a slot claims at once (one write to claim them, one to delete the finished ones), e.g.
    /// <c>Lenta__Queue__Batch__feed=16</c>; feed gets 16 (fan-out jobs take well under a millisecond each, so the two
    /// writes per job were most of a job's cost and set how many posts a second could be fanned out), others 1.
    /// </summary>
    public Dictionary<string, int> Batch { get; set; } = new(StringComparer.OrdinalIgnoreCase) { ["feed"] = 16 };

    public int BatchOf(string queue) => Batch.TryGetValue(queue, out var n) && n > 0 ? n : 1;
}
