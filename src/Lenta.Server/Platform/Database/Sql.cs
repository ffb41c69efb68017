namespace Lenta.Server.Platform.Database;

/// <summary>The few places where SQLite and PostgreSQL spell things differently.</summary>
public static class Sql
{
    /// <summary>
    /// Expands migration tokens: <c>{pk}</c> a 64-bit primary key (SQLite's rowid alias, so no second index),
    /// <c>{blob}</c> binary, <c>{skip_locked}</c> the row-lock clause for competing workers (SQLite has one writer), <c>{without_rowid}</c>
    /// after a table whose primary key is its only order (SQLite keeps the rows in that B-tree, with no rowid tree beside it).
    /// </summary>
    public static string Expand(string sql, DbProvider provider) => provider switch
    {
        DbProvider.Sqlite => sql
            .Replace("{pk}", "INTEGER PRIMARY KEY", StringComparison.Ordinal)
            .Replace("{blob}", "BLOB", StringComparison.Ordinal)
            .Replace("{skip_locked}", "", StringComparison.Ordinal)
            .Replace("{without_rowid}", "WITHOUT ROWID", StringComparison.Ordinal),
        _ => sql
            .Replace("{pk}", "BIGINT PRIMARY KEY", StringComparison.Ordinal)
            .Replace("{blob}", "BYTEA", StringComparison.Ordinal)
            .Replace("{skip_locked}", "FOR UPDATE SKIP LOCKED", StringComparison.Ordinal)
            .Replace("{without_rowid}", "", StringComparison.Ordinal),
    };

    /// <summary>
    /// Membership in a list parameter: <c>IN @p</c>, which Dapper expands on SQLite, or <c>= ANY(@p)</c> on
    /// PostgreSQL, where Dapper passes the list as one array parameter.
    /// </summary>
    public static string In(DbProvider provider, string parameter) =>
        provider == DbProvider.Postgres ? $"= ANY({parameter})" : $"IN {parameter}";
}
