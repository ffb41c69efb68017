using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lenta.Server.Platform.Database;

public static class DbErrors
{
    /// <summary>A unique index refused the row (SQLite constraint 2067/1555, PostgreSQL 23505): someone else got there first.</summary>
    public static bool IsUniqueViolation(Exception e) => e switch
    {
        SqliteException s => s.SqliteErrorCode == 19 && (s.SqliteExtendedErrorCode is 2067 or 1555 || s.Message.Contains("UNIQUE", StringComparison.Ordinal)),
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => e.InnerException is { } inner && IsUniqueViolation(inner),
    };
}
