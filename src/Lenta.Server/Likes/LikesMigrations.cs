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
        // A like writes one row and the pair's unique index; the orders the lists read (a post's likers, an account's
        // likes) and the stored counts are written behind it by LikeWriteBehind, many likes at a time, so a batch shares
        // their pages instead of each like dirtying a random page of each. Unfolded rows (folded = 0) sit in a small
        // partial index in id order, which the lists and the counts read besides the folded data.
        new("20261126_52_favourites_folded", """
            ALTER TABLE favourites ADD COLUMN folded INTEGER NOT NULL DEFAULT 1;
            CREATE TABLE favourites_by_status (
                status_id BIGINT NOT NULL,
                id BIGINT NOT NULL,
                account_id BIGINT NOT NULL,
                PRIMARY KEY (status_id, id)
            ) {without_rowid};
            CREATE TABLE favourites_by_account (
                account_id BIGINT NOT NULL,
                id BIGINT NOT NULL,
                status_id BIGINT NOT NULL,
                PRIMARY KEY (account_id, id)
            ) {without_rowid};
            INSERT INTO favourites_by_status (status_id, id, account_id) SELECT status_id, id, account_id FROM favourites;
            INSERT INTO favourites_by_account (account_id, id, status_id) SELECT account_id, id, status_id FROM favourites;
            INSERT INTO favourite_counts (status_id, favourites_count) SELECT status_id, SUM(delta) FROM favourite_deltas WHERE true GROUP BY status_id
                ON CONFLICT (status_id) DO UPDATE SET favourites_count = favourite_counts.favourites_count + excluded.favourites_count;
            DROP TABLE favourite_deltas;
            DROP INDEX ix_favourites_status;
            DROP INDEX ix_favourites_account;
            CREATE INDEX ix_favourites_unfolded ON favourites (id, account_id, status_id) WHERE folded = 0;
            """),
        // SQLite folds in steps, each its own short transaction through the one writer (LikesService.FoldAsync): this
        // row tells how far the fold under way got. The likes it takes up are the unfolded ones with id <= upto (0: no
        // fold under way); of those, the ones whose account_id < account_cursor are in favourites_by_account, the ones
        // whose status_id < status_cursor in favourites_by_status and the counts. PostgreSQL folds in one statement and
        // leaves it at 0.
        new("20261207_53_likes_fold", """
            CREATE TABLE likes_fold (
                id INTEGER NOT NULL PRIMARY KEY,
                upto BIGINT NOT NULL,
                account_cursor BIGINT NOT NULL,
                status_cursor BIGINT NOT NULL
            );
            INSERT INTO likes_fold (id, upto, account_cursor, status_cursor) VALUES (1, 0, 0, 0);
            """),
    ];
}
