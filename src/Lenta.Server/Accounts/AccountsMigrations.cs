using Lenta.Server.Platform.Database;

namespace Lenta.Server.Accounts;

public sealed class AccountsMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_10_accounts", """
            CREATE TABLE accounts (
                id {pk},
                username TEXT NOT NULL,
                username_lower TEXT NOT NULL,
                display_name TEXT NOT NULL DEFAULT '',
                note TEXT NOT NULL DEFAULT '',
                locked INTEGER NOT NULL DEFAULT 0,
                bot INTEGER NOT NULL DEFAULT 0,
                discoverable INTEGER NOT NULL DEFAULT 1,
                indexable INTEGER NOT NULL DEFAULT 1,
                hide_collections INTEGER NOT NULL DEFAULT 0,
                fields TEXT NOT NULL DEFAULT '[]',
                default_privacy TEXT NOT NULL DEFAULT 'public',
                default_sensitive INTEGER NOT NULL DEFAULT 0,
                default_language TEXT NULL,
                followers_count BIGINT NOT NULL DEFAULT 0,
                following_count BIGINT NOT NULL DEFAULT 0,
                statuses_count BIGINT NOT NULL DEFAULT 0,
                last_status_at BIGINT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX ux_accounts_username ON accounts (username_lower);
            CREATE TABLE users (
                account_id BIGINT PRIMARY KEY,
                email TEXT NOT NULL,
                email_lower TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                locale TEXT NOT NULL,
                created_by_client TEXT NULL,
                created_at BIGINT NOT NULL,
                last_sign_in_at BIGINT NULL
            );
            CREATE UNIQUE INDEX ux_users_email ON users (email_lower);
            """),
        new("20261126_11_access_tokens", """
            CREATE TABLE access_tokens (
                id {pk},
                token_hash TEXT NOT NULL,
                client_id TEXT NOT NULL,
                account_id BIGINT NULL,
                scopes TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT NULL
            );
            CREATE UNIQUE INDEX ux_access_tokens_hash ON access_tokens (token_hash);
            CREATE INDEX ix_access_tokens_account ON access_tokens (account_id);
            CREATE TABLE server_keys (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE data_protection_keys (
                name TEXT PRIMARY KEY,
                xml TEXT NOT NULL
            );
            """),
        new("20261126_12_account_version", "ALTER TABLE accounts ADD COLUMN version BIGINT NOT NULL DEFAULT 0"),
        new("20261207_10_account_avatar", "ALTER TABLE accounts ADD COLUMN avatar_key TEXT NULL"),
        new("20261207_11_account_header", "ALTER TABLE accounts ADD COLUMN header_key TEXT NULL"),
    ];
}
