using Lenta.Server.Platform.Database;

namespace Lenta.Server.Media;

public sealed class MediaMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_60_media", """
            CREATE TABLE media_attachments (
                id {pk},
                account_id BIGINT NOT NULL,
                status_id BIGINT NULL,
                type TEXT NOT NULL,
                state TEXT NOT NULL,
                failure_reason TEXT NULL,
                raw_key TEXT NOT NULL,
                raw_format TEXT NULL,
                file_size BIGINT NOT NULL,
                original_key TEXT NULL,
                small_key TEXT NULL,
                meta TEXT NULL,
                blurhash TEXT NULL,
                description TEXT NULL,
                focus_x DOUBLE PRECISION NULL,
                focus_y DOUBLE PRECISION NULL,
                created_at BIGINT NOT NULL,
                processed_at BIGINT NULL
            );
            CREATE INDEX ix_media_account ON media_attachments (account_id, id);
            CREATE INDEX ix_media_status ON media_attachments (status_id);
            CREATE INDEX ix_media_unattached ON media_attachments (created_at) WHERE status_id IS NULL;
            """),
        new("20261126_61_media_video", """
            ALTER TABLE media_attachments ADD COLUMN hls_key TEXT NULL;
            ALTER TABLE media_attachments ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
            """),
    ];
}
