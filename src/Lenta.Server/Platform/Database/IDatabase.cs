using System.Data.Common;

namespace Lenta.Server.Platform.Database;

/// <summary>
/// The relational DB port. Reads run on pooled connections and see committed data. Writes run inside a
/// transaction and are acknowledged only after it commits durably; a write that throws leaves nothing behind.
/// On SQLite all writes go through one writer that group-commits many callers' writes in one transaction
/// (one fsync per batch), so a write callback must do database work only, never wait on anything else.
/// On PostgreSQL a write whose transaction hits a serialization failure or deadlock is run again, so
/// write callbacks must be safe to re-run (they only touch the database through <see cref="DbWrite"/>).
/// </summary>
public interface IDatabase
{
    DbProvider Provider { get; }

    Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken ct = default);

    Task<T> WriteAsync<T>(Func<DbWrite, Task<T>> work, CancellationToken ct = default);

    /// <summary>Round trip to the engine, for readiness.</summary>
    Task PingAsync(CancellationToken ct);
}

public static class DatabaseExtensions
{
    public static Task WriteAsync(this IDatabase db, Func<DbWrite, Task> work, CancellationToken ct = default) =>
        db.WriteAsync(async w =>
        {
            await work(w);
            return true;
        }, ct);
}
