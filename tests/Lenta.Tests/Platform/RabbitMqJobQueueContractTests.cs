using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Jobs.RabbitMq;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lenta.Tests.Platform;

/// <summary>
/// The job-queue contract on RabbitMQ, with PostgreSQL holding the outbox: each node an adapter with its own connection
/// and relay, all of one test under a queue-name prefix of its own.
/// </summary>
public sealed class RabbitMqJobQueueContractTests() : JobQueueContractTests(DbProvider.Postgres)
{
    private readonly string _prefix = RabbitMq.NewPrefix();

    protected override async Task<JobAdapter> CreateAsync(IDatabase db, int node, JobSignal signal, IOptions<JobQueueOptions> options)
    {
        options.Value.ConnectionString = RabbitMq.Uri;
        options.Value.QueuePrefix = _prefix;
        await new DatabaseMigrator(db, [new JobsMigrations()], NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        var queue = new RabbitJobQueue(db, new IdGenerator(node), signal, options, TimeProvider.System, NullLogger<RabbitJobQueue>.Instance);
        queue.StartRelay();
        return new JobAdapter(queue, queue, queue);
    }

    /// <summary>
    /// A claim takes deliveries from the consumer, then asks the database which still want running; a completion deletes
    /// the rows, then acks. With the database away at either step the deliveries are given back to the consumer: left
    /// unacknowledged on the channel they would never run again while the process lives.
    /// </summary>
    [Fact]
    public async Task Deliveries_held_when_the_database_goes_away_are_given_back_and_run_when_it_is_back()
    {
        var cs = await Postgres.CreateDatabaseAsync();
        var name = new Npgsql.NpgsqlConnectionStringBuilder(cs).Database!;
        await using var db = new PostgresDatabase(PostgresDatabase.CreateDataSource(cs), NullLogger<PostgresDatabase>.Instance);
        await new DatabaseMigrator(db, [new JobsMigrations()], NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        var signal = new JobSignal();
        var options = Options.Create(new JobQueueOptions { ConnectionString = RabbitMq.Uri, QueuePrefix = RabbitMq.NewPrefix(), PollIntervalMs = 50 });
        await using var queue = new RabbitJobQueue(db, new IdGenerator(1), signal, options, TimeProvider.System, NullLogger<RabbitJobQueue>.Instance);
        queue.StartRelay();
        const string q = RecordingJobHandler.QueueName;
        Assert.Empty(await queue.ClaimAsync(q, 10, CancellationToken.None)); // the consumer, before any job

        var delivered = signal.WaitAsync(q, TimeSpan.FromSeconds(10), CancellationToken.None);
        var id = await db.WriteAsync(w => queue.EnqueueAsync(w, RecordingJobHandler.Request("ok")));
        Assert.True(await delivered, "the job reached the consumer");

        await Postgres.RefuseConnectionsAsync(name);
        await Assert.ThrowsAnyAsync<Exception>(() => queue.ClaimAsync(q, 10, CancellationToken.None));
        await Postgres.AllowConnectionsAsync(name);
        var claimed = await ClaimWithinAsync(queue, "the job given back when the claim failed");
        Assert.Equal([id], claimed.Select(j => j.Id));

        await Postgres.RefuseConnectionsAsync(name);
        await Assert.ThrowsAnyAsync<Exception>(() => queue.CompleteAsync(claimed));
        await Postgres.AllowConnectionsAsync(name);
        var again = await ClaimWithinAsync(queue, "the job given back when its completion failed");
        Assert.Equal([id], again.Select(j => j.Id));
        await queue.CompleteAsync(again);
        Assert.Null(await queue.GetAsync(id));
    }

    private static Task<IReadOnlyList<Job>> ClaimWithinAsync(RabbitJobQueue queue, string what) =>
        Eventually.WaitAsync(() => queue.ClaimAsync(RecordingJobHandler.QueueName, 10, CancellationToken.None), c => c.Count > 0, TimeSpan.FromSeconds(10), what);
}
