using Lenta.Server.Platform.Database;

namespace Lenta.Server.Tags;

public sealed class TagsMigrations : IMigrationSource
{
    private const string Follows = """
        CREATE TABLE tag_follows (
            id {pk},
            account_id BIGINT NOT NULL,
            tag TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX ux_tag_follows_pair ON tag_follows (account_id, tag);
        CREATE INDEX ix_tag_follows_account ON tag_follows (account_id, id);
        CREATE INDEX ix_tag_follows_tag ON tag_follows (tag, id);
        """;

    public IEnumerable<Migration> Migrations =>
    [
        // Every tag ever used or followed, by its folded name (Posts.Hashtags); the id is the Tag entity's. Names compare
        // byte by byte (PostgreSQL's "C" collation, SQLite's BINARY), so a prefix is one index range (hashtag search).
        // tag_follows: the row id is the cursor of GET /api/v1/followed_tags; (tag, id) pages a tag's followers for fan-out.
        new("20261207_60_tags", $"""
            CREATE TABLE tags (
                id {"{pk}"},
                name TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_tags_name ON tags (name);
            {Follows}
            """, $"""
            CREATE TABLE tags (
                id {"{pk}"},
                name TEXT COLLATE "C" NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_tags_name ON tags (name);
            {Follows}
            """),
    ];
}
