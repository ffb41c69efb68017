using Lenta.Server.Platform.Database;

namespace Lenta.Server.Graph;

public sealed class GraphMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_20_follows", """
            CREATE TABLE follows (
                id {pk},
                account_id BIGINT NOT NULL,
                target_account_id BIGINT NOT NULL,
                show_reblogs INTEGER NOT NULL DEFAULT 1,
                notify INTEGER NOT NULL DEFAULT 0,
                languages TEXT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_follows_pair ON follows (account_id, target_account_id);
            CREATE INDEX ix_follows_followers ON follows (target_account_id, id);
            CREATE INDEX ix_follows_following ON follows (account_id, id);
            CREATE TABLE follow_requests (
                id {pk},
                account_id BIGINT NOT NULL,
                target_account_id BIGINT NOT NULL,
                show_reblogs INTEGER NOT NULL DEFAULT 1,
                notify INTEGER NOT NULL DEFAULT 0,
                languages TEXT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_follow_requests_pair ON follow_requests (account_id, target_account_id);
            CREATE INDEX ix_follow_requests_target ON follow_requests (target_account_id, id);
            """),
        // Row ids are the cursors of GET /api/v1/blocks and /mutes; a mute with expires_at (milliseconds) ends by itself.
        new("20261206_21_blocks_mutes", """
            CREATE TABLE blocks (
                id {pk},
                account_id BIGINT NOT NULL,
                target_account_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_blocks_pair ON blocks (account_id, target_account_id);
            CREATE INDEX ix_blocks_list ON blocks (account_id, id);
            CREATE INDEX ix_blocks_target ON blocks (target_account_id);
            CREATE TABLE mutes (
                id {pk},
                account_id BIGINT NOT NULL,
                target_account_id BIGINT NOT NULL,
                notifications INTEGER NOT NULL DEFAULT 1,
                expires_at BIGINT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_mutes_pair ON mutes (account_id, target_account_id);
            CREATE INDEX ix_mutes_list ON mutes (account_id, id);
            """),
        // Who is told of an account's every post (the follow's notify option): a partial index, so a post's notifications
        // read only those followers, not all of them.
        new("20261206_21_follows_notify", """
            CREATE INDEX ix_follows_notify ON follows (target_account_id, id) WHERE notify = 1;
            """),
        // What an account noted about another (docs.joinmastodon.org/methods/accounts/#note), shown only to its writer.
        new("20261207_22_account_notes", """
            CREATE TABLE account_notes (
                account_id BIGINT NOT NULL,
                target_account_id BIGINT NOT NULL,
                comment TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (account_id, target_account_id)
            );
            """),
    ];
}
