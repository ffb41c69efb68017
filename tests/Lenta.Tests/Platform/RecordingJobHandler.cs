using System.Collections.Concurrent;
using Lenta.Server.Platform.Jobs;

namespace Lenta.Tests.Platform;

/// <summary>
/// The job-queue tests' handler, queue <c>test</c>: its payload says what to do (<c>ok</c>, <c>fail:N</c> fails the
/// first N attempts, <c>permanent</c>, <c>hang</c> past its 300 ms timeout; anything after a further colon only makes
/// the payload unique), and it records every attempt and every successful run.
/// </summary>
internal sealed class RecordingJobHandler : IJobHandler
{
    public const string JobType = "test.record";
    public const string QueueName = "test";
    private readonly ConcurrentDictionary<long, int> _attempts = new();
    private readonly ConcurrentDictionary<long, int> _runs = new();
    private readonly ConcurrentDictionary<string, int> _runsByPayload = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _attemptNumbersByPayload = new();

    public string Type => JobType;
    public string Queue => QueueName;
    public TimeSpan Timeout => TimeSpan.FromMilliseconds(300);

    public static JobRequest Request(string payload, TimeSpan? delay = null) => new(QueueName, JobType, payload, delay);

    public int Runs(long id) => _runs.GetValueOrDefault(id);
    public int Runs(string payload) => _runsByPayload.GetValueOrDefault(payload);
    public int Attempts(long id) => _attempts.GetValueOrDefault(id);

    /// <summary>The <see cref="Job.Attempt"/> of every delivery of <paramref name="payload"/>, in order.</summary>
    public IReadOnlyList<int> AttemptNumbers(string payload) => _attemptNumbersByPayload.TryGetValue(payload, out var seen) ? seen.ToList() : [];

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        _attempts.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
        _attemptNumbersByPayload.GetOrAdd(job.Payload, _ => new()).Enqueue(job.Attempt);
        switch (job.Payload.Split(':'))
        {
            case ["fail", var times, ..] when job.Attempt <= int.Parse(times, System.Globalization.CultureInfo.InvariantCulture):
                throw new InvalidOperationException($"told to fail (attempt {job.Attempt})");
            case ["permanent", ..]:
                throw new PermanentJobFailureException("bad input, never retry");
            case ["hang", ..]:
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct);
                break;
        }
        _runs.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
        _runsByPayload.AddOrUpdate(job.Payload, 1, (_, n) => n + 1);
    }
}
