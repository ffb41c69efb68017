using Lenta.Server.Platform.Database;

namespace Lenta.Server.Platform.Jobs;

public sealed class JobsMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_01_jobs", """
            CREATE TABLE jobs (
                id {pk},
                queue TEXT NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                run_after BIGINT NOT NULL,
                locked_by INTEGER NULL,
                locked_until BIGINT NULL,
                last_error TEXT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE INDEX ix_jobs_ready ON jobs (queue, state, run_after);
            """),
        // The RabbitMQ relay's claim reads the outbox rows in id order: only those, not the published rows awaiting their
        // workers (nor, on PostgreSQL, their dead versions).
        new("20261207_01_jobs_outbox", "CREATE INDEX ix_jobs_outbox ON jobs (id) WHERE state = 'outbox';"),
    ];
}
