using System.Data.Common;
using Dapper;
using Npgsql;

namespace Lenta.Server.Platform.Database;

/// <summary>PostgreSQL: a pooled data source; every write in its own transaction, re-run on serialization failure or deadlock.</summary>
public sealed class PostgresDatabase(NpgsqlDataSource dataSource, ILogger<PostgresDatabase> log) : IDatabase, IAsyncDisposable
{
    private const int MaxAttempts = 5;

    public DbProvider Provider => DbProvider.Postgres;

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>
    /// The data source for an operator's connection string, with Lenta's defaults for what it leaves out: statements
    /// prepared by Npgsql once used five times on a connection (<c>Max Auto Prepare=64</c>; a write path runs the same
    /// few dozen statements over and over, and parsing and planning each was a fifth of PostgreSQL's time), and no
    /// <c>DISCARD ALL</c> when a connection goes back to the pool (<c>No Reset On Close=true</c>: it would drop those
    /// statements; Lenta keeps no session state, its advisory locks are all transaction-scoped). Either setting in the
    /// connection string wins.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var named = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!Names(named, "Max Auto Prepare", "MaxAutoPrepare"))
            builder.MaxAutoPrepare = 64;
        if (!Names(named, "No Reset On Close", "NoResetOnClose"))
            builder.NoResetOnClose = true;
        return NpgsqlDataSource.Create(builder);

        static bool Names(DbConnectionStringBuilder b, params string[] keys) => keys.Any(b.ContainsKey);
    }

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken ct = default)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return await work(connection);
        }
        catch (Exception e) when (Forget(e))
        {
            // A read may run again: once, on a fresh connection, for the pooled one that died with a server restart.
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return await work(connection);
        }
    }

    /// <summary>A write is not run again (its commit may have happened): the pool is emptied and the failure passed on.</summary>
    private bool PassOn(Exception e)
    {
        Forget(e);
        return false;
    }

    /// <summary>
    /// After a restart or failover of the server every idle pooled connection is dead, and each would fail one request
    /// more: the pool is emptied at the first such failure, so service returns whole as soon as the server does.
    /// </summary>
    private bool Forget(Exception e)
    {
        if (!DbErrors.IsUnavailable(e))
            return false;
        log.LogWarning("PostgreSQL unavailable ({Reason}); emptying the connection pool", e.Message);
        dataSource.Clear();
        DbErrors.ForgetPooledConnections();
        return true;
    }

    public async Task<T> WriteAsync<T>(Func<DbWrite, Task<T>> work, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var write = new DbWrite(connection, tx, DbProvider.Postgres);
            T result;
            try
            {
                result = await work(write);
                await tx.CommitAsync(ct);
            }
            catch (Exception e) when (PassOn(e))
            {
                throw;   // never entered: see PassOn
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected && attempt < MaxAttempts)
            {
                log.LogWarning("Write transaction hit {SqlState}; running it again (attempt {Attempt})", e.SqlState, attempt + 1);
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), ct);
                continue;
            }
            await write.RunAfterCommitAsync(log);
            return result;
        }
    }

    public Task PingAsync(CancellationToken ct) =>
        ReadAsync(c => c.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: ct)), ct);

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
