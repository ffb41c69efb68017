using Lenta.Server.Platform.Database;

namespace Lenta.Server.Notifications;

public sealed class NotificationsMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        // One row per thing a person is told about. The cause (recipient, type, who, which post; 0 for none) is unique,
        // so a job delivered twice tells once, and undoing the cause deletes exactly its row. group_key is Mastodon's
        // (favourite-<post>-<hour bucket>, follow--<hour bucket>, ungrouped-<id>), fixed when the row is written.
        new("20261206_70_notifications", """
            CREATE TABLE notifications (
                id {pk},
                account_id BIGINT NOT NULL,
                type TEXT NOT NULL,
                from_account_id BIGINT NOT NULL,
                status_id BIGINT NOT NULL DEFAULT 0,
                group_key TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_notifications_cause ON notifications (account_id, type, from_account_id, status_id);
            CREATE INDEX ix_notifications_account ON notifications (account_id, id);
            CREATE INDEX ix_notifications_group ON notifications (account_id, group_key, id);
            CREATE INDEX ix_notifications_status ON notifications (status_id) WHERE status_id <> 0;
            CREATE TABLE markers (
                account_id BIGINT NOT NULL,
                timeline TEXT NOT NULL,
                last_read_id TEXT NOT NULL,
                version BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (account_id, timeline)
            ) {without_rowid};
            """),
        // A post's favourite notifications all go to its author and share the group prefix favourite-<post>-, so its
        // delete finds them on ix_notifications_group; the status index leaves them out: one B-tree fewer for each
        // like's notification, the write that dominates the like path's pages.
        new("20261208_71_notifications_status_index", """
            DROP INDEX ix_notifications_status;
            CREATE INDEX ix_notifications_status ON notifications (status_id) WHERE status_id <> 0 AND type <> 'favourite';
            """),
    ];
}
