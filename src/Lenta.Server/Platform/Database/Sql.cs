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
    /// A list parameter (<see cref="List(DbProvider, IEnumerable{long})"/>'s value) as rows of one column, <c>value</c>, for
    /// an <c>INSERT … SELECT</c> of many rows in one statement: <c>unnest</c> on PostgreSQL, <c>json_each</c> on SQLite.
    /// </summary>
    public static string Rows(DbProvider provider, string parameter) =>
        provider == DbProvider.Postgres ? $"unnest({parameter}) AS u(value)" : $"json_each({parameter})";

    /// <summary>
    /// Membership in a list parameter whose value is <see cref="List(DbProvider, IEnumerable{long})"/>'s: one parameter
    /// whatever the list's length — <c>= ANY(@p)</c> with an array on PostgreSQL, <c>IN (SELECT value FROM
    /// json_each(@p))</c> with a JSON array on SQLite. (Dapper's expansion of a list into one parameter per item cost,
    /// per item, a parameter object and Microsoft.Data.Sqlite's lookup of its name under each prefix — four UTF-8
    /// copies: ~12 % of what the Reed98 mix allocated, through the fan-out's list of followers.)
    /// </summary>
    public static string In(DbProvider provider, string parameter) =>
        provider == DbProvider.Postgres ? $"= ANY({parameter})" : $"IN (SELECT value FROM json_each({parameter}))";

    /// <summary>The value of a list parameter used with <see cref="In"/>.</summary>
    public static object List(DbProvider provider, IEnumerable<long> values)
    {
        if (provider == DbProvider.Postgres)
            return values as long[] ?? values.ToArray();
        var json = new System.Text.StringBuilder("[");
        foreach (var v in values)
        {
            if (json.Length > 1)
                json.Append(',');
            json.Append(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return json.Append(']').ToString();
    }

    /// <summary>The value of a list parameter of strings used with <see cref="In"/>.</summary>
    public static object List(DbProvider provider, IEnumerable<string> values) =>
        provider == DbProvider.Postgres ? values as string[] ?? values.ToArray() : System.Text.Json.JsonSerializer.Serialize(values.ToArray(), SqlJson.Default.StringArray);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class SqlJson : System.Text.Json.Serialization.JsonSerializerContext;
