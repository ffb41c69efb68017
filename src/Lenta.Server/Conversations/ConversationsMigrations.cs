using Lenta.Server.Platform.Database;

namespace Lenta.Server.Conversations;

public sealed class ConversationsMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        // One row per participant and thread (Mastodon's account_conversations): the row id is the Conversation id its
        // owner sees; lists are ordered and paged by the last post. conversation_statuses says which direct posts of a
        // thread reached whom, so a deleted post's conversations fall back to the one before it.
        new("20261207_90_conversations", """
            CREATE TABLE account_conversations (
                id {pk},
                account_id BIGINT NOT NULL,
                root_id BIGINT NOT NULL,
                participants TEXT NOT NULL DEFAULT '[]',
                last_status_id BIGINT NOT NULL,
                unread INTEGER NOT NULL DEFAULT 0
            );
            CREATE UNIQUE INDEX ux_account_conversations_thread ON account_conversations (account_id, root_id);
            CREATE INDEX ix_account_conversations_recent ON account_conversations (account_id, last_status_id);
            CREATE TABLE conversation_statuses (
                status_id BIGINT NOT NULL,
                account_id BIGINT NOT NULL,
                root_id BIGINT NOT NULL,
                PRIMARY KEY (status_id, account_id)
            );
            CREATE INDEX ix_conversation_statuses_thread ON conversation_statuses (account_id, root_id, status_id);
            """),
    ];
}
