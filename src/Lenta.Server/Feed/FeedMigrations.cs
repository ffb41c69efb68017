using Lenta.Server.Platform.Database;

namespace Lenta.Server.Feed;

public sealed class FeedMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_40_feed", """
            CREATE TABLE feed_activity (
                account_id BIGINT PRIMARY KEY,
                last_read_at BIGINT NOT NULL
            );
            CREATE INDEX ix_feed_activity_read ON feed_activity (last_read_at);
            CREATE TABLE feed_pull_accounts (
                account_id BIGINT PRIMARY KEY,
                since BIGINT NOT NULL
            );
            """),
    ];
}
