using System.Data.Common;
using Dapper;

namespace Lenta.Server.Platform.Database;

/// <summary>One write unit's view of the open transaction, with Dapper helpers that always pass it.</summary>
/// <remarks>On the SQLite writer, statements with simple arguments run on prepared commands kept by the writer (<see cref="SqliteStatements"/>).</remarks>
public sealed class DbWrite(DbConnection connection, DbTransaction transaction, DbProvider provider)
{
    private List<Func<Task>>? _afterCommit;

    internal DbWrite(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction, SqliteStatements statements)
        : this(connection, transaction, DbProvider.Sqlite) => _statements = statements;

    private readonly SqliteStatements? _statements;

    public DbConnection Connection { get; } = connection;
    public DbTransaction Transaction { get; } = transaction;
    public DbProvider Provider { get; } = provider;

    private Microsoft.Data.Sqlite.SqliteCommand? Prepared(string sql, object? args) =>
        _statements?.Prepare(sql, args, (Microsoft.Data.Sqlite.SqliteTransaction)Transaction);

    public Task<int> ExecuteAsync(string sql, object? args = null) =>
        Prepared(sql, args) is { } command
            ? Task.FromResult(command.ExecuteNonQuery())
            : Connection.ExecuteAsync(new CommandDefinition(sql, args, Transaction));

    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args = null) =>
        Connection.QueryAsync<T>(new CommandDefinition(sql, args, Transaction));

    public Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? args = null)
    {
        if (!SqliteStatements.IsScalar<T>() || Prepared(sql, args) is not { } command)
            return Connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, args, Transaction));
        using var reader = command.ExecuteReader();
        if (!reader.Read())
            return Task.FromResult<T?>(default);
        var value = SqliteStatements.Convert<T>(reader.GetValue(0));
        if (reader.Read())
            throw new InvalidOperationException("Sequence contains more than one element");
        return Task.FromResult(value);
    }

    public Task<T?> ExecuteScalarAsync<T>(string sql, object? args = null) =>
        SqliteStatements.IsScalar<T>() && Prepared(sql, args) is { } command
            ? Task.FromResult(SqliteStatements.Convert<T>(command.ExecuteScalar()))
            : Connection.ExecuteScalarAsync<T>(new CommandDefinition(sql, args, Transaction));

    /// <summary>
    /// Runs <paramref name="action"/> once the transaction has committed (update a cache, wake a worker), never if it
    /// rolls back; the write's caller gets its answer only after the action finished, so what it does next sees it.
    /// A failing action is logged; the committed data stands.
    /// </summary>
    public void AfterCommit(Func<Task> action) => (_afterCommit ??= []).Add(action);

    public void AfterCommit(Action action) => AfterCommit(() =>
    {
        action();
        return Task.CompletedTask;
    });

    internal async Task RunAfterCommitAsync(ILogger log)
    {
        foreach (var action in (IReadOnlyList<Func<Task>>?)_afterCommit ?? [])
        {
            try
            {
                await action();
            }
            catch (Exception error)
            {
                log.LogError(error, "An after-commit action failed");
            }
        }
    }
}
