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

    /// <summary>
    /// The database cannot be reached or is not serving now (connection refused or reset, a timeout, the pool exhausted,
    /// the server shutting down or starting up, too many connections): a request that met it may be tried again later,
    /// unlike a bug. Npgsql marks these transient; SQLite's file is never away.
    /// </summary>
    public static bool IsUnavailable(Exception e) => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal)
            || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                or PostgresErrorCodes.TooManyConnections,
        NpgsqlException n => n.IsTransient || n.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException,
        AggregateException a => a.InnerExceptions.Any(IsUnavailable),
        _ => e.InnerException is { } inner && IsUnavailable(inner),
    };

    /// <summary>
    /// Empties every connection-string pool of this process (the OAuth store's, which Entity Framework opens by its
    /// connection string): after a restart of PostgreSQL each idle connection there is dead too, and would fail one
    /// request more.
    /// </summary>
    public static void ForgetPooledConnections() => NpgsqlConnection.ClearAllPools();
}
