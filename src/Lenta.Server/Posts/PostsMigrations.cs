using Lenta.Server.Platform.Database;

namespace Lenta.Server.Posts;

public sealed class PostsMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_30_statuses", """
            CREATE TABLE statuses (
                id {pk},
                account_id BIGINT NOT NULL,
                text TEXT NOT NULL,
                content TEXT NOT NULL,
                spoiler_text TEXT NOT NULL DEFAULT '',
                visibility INTEGER NOT NULL,
                sensitive INTEGER NOT NULL DEFAULT 0,
                language TEXT NULL,
                in_reply_to_id BIGINT NULL,
                in_reply_to_account_id BIGINT NULL,
                mentions TEXT NOT NULL DEFAULT '[]',
                tags TEXT NOT NULL DEFAULT '[]',
                has_media INTEGER NOT NULL DEFAULT 0,
                application_name TEXT NULL,
                application_website TEXT NULL,
                replies_count BIGINT NOT NULL DEFAULT 0,
                reblogs_count BIGINT NOT NULL DEFAULT 0,
                favourites_count BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                edited_at BIGINT NULL
            );
            CREATE INDEX ix_statuses_account ON statuses (account_id, id);
            CREATE INDEX ix_statuses_reply ON statuses (in_reply_to_id);
            CREATE TABLE status_mentions (
                status_id BIGINT NOT NULL,
                account_id BIGINT NOT NULL,
                PRIMARY KEY (status_id, account_id)
            );
            CREATE INDEX ix_status_mentions_account ON status_mentions (account_id, status_id);
            CREATE TABLE status_tags (
                status_id BIGINT NOT NULL,
                tag TEXT NOT NULL,
                PRIMARY KEY (status_id, tag)
            );
            CREATE INDEX ix_status_tags_tag ON status_tags (tag, status_id);
            CREATE TABLE idempotency_keys (
                account_id BIGINT NOT NULL,
                idempotency_key TEXT NOT NULL,
                status_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (account_id, idempotency_key)
            );
            """),
        new("20261126_31_statuses_public", """
            CREATE INDEX ix_statuses_public ON statuses (id) WHERE visibility = 0;
            """),
        new("20261126_32_statuses_media", """
            ALTER TABLE statuses ADD COLUMN media TEXT NOT NULL DEFAULT '[]';
            """),
        new("20261206_33_status_pins", """
            CREATE TABLE status_pins (
                id {pk},
                account_id BIGINT NOT NULL,
                status_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_status_pins_pair ON status_pins (account_id, status_id);
            CREATE INDEX ix_status_pins_status ON status_pins (status_id);
            """),
        // A post's versions once it has been edited: the original first, then one per edit (Mastodon's status_edits).
        new("20261206_34_status_edits", """
            CREATE TABLE status_edits (
                id {pk},
                status_id BIGINT NOT NULL,
                account_id BIGINT NOT NULL,
                content TEXT NOT NULL,
                spoiler_text TEXT NOT NULL,
                sensitive INTEGER NOT NULL,
                media TEXT NOT NULL,
                media_descriptions TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE INDEX ix_status_edits_status ON status_edits (status_id, id);
            """),
        // Boosts are statuses that point at the post they share (Mastodon's reblog_of_id), with the original's author kept
        // beside it so timelines can filter blocked authors without loading the original. One boost per account and post
        // (the unique partial index makes a second one a no-op); (reblog_of_id, id) lists a post's boosts in order.
        new("20261207_35_boosts", """
            ALTER TABLE statuses ADD COLUMN reblog_of_id BIGINT NULL;
            ALTER TABLE statuses ADD COLUMN reblog_of_account_id BIGINT NULL;
            CREATE UNIQUE INDEX ux_statuses_boost ON statuses (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL;
            CREATE INDEX ix_statuses_reblogs ON statuses (reblog_of_id, id) WHERE reblog_of_id IS NOT NULL;
            """),
        // Full-text search of posts (GET /api/v2/search, type=statuses), kept by the database itself in the statement that
        // writes the post, so compose, edit and delete keep it with no code of theirs and a crash cannot leave it behind.
        // SQLite: an FTS5 index over statuses (external content, rowid = id) kept by triggers, filled once here.
        // PostgreSQL: a generated tsvector column with a GIN index. Both tokenize the same way: words of letters and
        // digits in lower case, no stemming, no accent folding (the 'simple' configuration; unicode61 without diacritics removal).
        new("20261207_35_statuses_search", """
            CREATE VIRTUAL TABLE statuses_fts USING fts5(text, spoiler_text, content='statuses', content_rowid='id', tokenize='unicode61 remove_diacritics 0');
            CREATE TRIGGER statuses_fts_insert AFTER INSERT ON statuses BEGIN
                INSERT INTO statuses_fts (rowid, text, spoiler_text) VALUES (new.id, new.text, new.spoiler_text);
            END;
            CREATE TRIGGER statuses_fts_delete AFTER DELETE ON statuses BEGIN
                INSERT INTO statuses_fts (statuses_fts, rowid, text, spoiler_text) VALUES ('delete', old.id, old.text, old.spoiler_text);
            END;
            CREATE TRIGGER statuses_fts_update AFTER UPDATE OF text, spoiler_text ON statuses BEGIN
                INSERT INTO statuses_fts (statuses_fts, rowid, text, spoiler_text) VALUES ('delete', old.id, old.text, old.spoiler_text);
                INSERT INTO statuses_fts (rowid, text, spoiler_text) VALUES (new.id, new.text, new.spoiler_text);
            END;
            INSERT INTO statuses_fts (statuses_fts) VALUES ('rebuild');
            """, """
            ALTER TABLE statuses ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', spoiler_text || ' ' || text)) STORED;
            CREATE INDEX ix_statuses_search ON statuses USING GIN (search);
            """),
        // Bumped by every change of a row (counts, edits): the post cache keeps the newest version a reader or writer offers.
        new("20261207_36_statuses_version", """
            ALTER TABLE statuses ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
            """),
    ];
}
