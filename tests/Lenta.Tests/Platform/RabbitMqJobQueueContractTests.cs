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
}
