using Lenta.Server.Platform.Database;

namespace Lenta.Server.Bookmarks;

public sealed class BookmarksMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        // The row id is the cursor of GET /api/v1/bookmarks (Mastodon pages bookmarks by the bookmark, not the post).
        new("20261206_70_bookmarks", """
            CREATE TABLE bookmarks (
                id {pk},
                account_id BIGINT NOT NULL,
                status_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_bookmarks_pair ON bookmarks (account_id, status_id);
            CREATE INDEX ix_bookmarks_account ON bookmarks (account_id, id);
            CREATE INDEX ix_bookmarks_status ON bookmarks (status_id);
            """),
    ];
}
