using Lenta.Server.Platform.Database;

namespace Lenta.Server.Likes;

public sealed class LikesMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_50_favourites", """
            CREATE TABLE favourites (
                id {pk},
                account_id BIGINT NOT NULL,
                status_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_favourites_pair ON favourites (account_id, status_id);
            CREATE INDEX ix_favourites_status ON favourites (status_id, id);
            CREATE INDEX ix_favourites_account ON favourites (account_id, id);
            CREATE TABLE favourite_deltas (
                seq {pk},
                status_id BIGINT NOT NULL,
                delta INTEGER NOT NULL
            );
            CREATE INDEX ix_favourite_deltas_status ON favourite_deltas (status_id);
            """),
        // Stored counts move out of the wide statuses rows into a narrow table of their own: a like's count change (or a
        // fold of many) dirties a page holding hundreds of counts instead of one holding two or three posts' text.
        new("20261126_51_favourite_counts", """
            CREATE TABLE favourite_counts (
                status_id {pk},
                favourites_count BIGINT NOT NULL
            );
            INSERT INTO favourite_counts (status_id, favourites_count) SELECT id, favourites_count FROM statuses WHERE favourites_count <> 0;
            ALTER TABLE statuses DROP COLUMN favourites_count;
            """),
    ];
}
