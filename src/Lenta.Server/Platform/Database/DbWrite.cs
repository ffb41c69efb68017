using System.Data.Common;
using Dapper;

namespace Lenta.Server.Platform.Database;

/// <summary>One write unit's view of the open transaction, with Dapper helpers that always pass it.</summary>
public sealed class DbWrite(DbConnection connection, DbTransaction transaction, DbProvider provider)
{
    private List<Action>? _afterCommit;

    public DbConnection Connection { get; } = connection;
    public DbTransaction Transaction { get; } = transaction;
    public DbProvider Provider { get; } = provider;

    public Task<int> ExecuteAsync(string sql, object? args = null) =>
        Connection.ExecuteAsync(new CommandDefinition(sql, args, Transaction));

    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args = null) =>
        Connection.QueryAsync<T>(new CommandDefinition(sql, args, Transaction));

    public Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? args = null) =>
        Connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, args, Transaction));

    public Task<T?> ExecuteScalarAsync<T>(string sql, object? args = null) =>
        Connection.ExecuteScalarAsync<T>(new CommandDefinition(sql, args, Transaction));

    /// <summary>Runs <paramref name="action"/> once the transaction has committed (e.g. update a cache, wake a worker); never if it rolls back.</summary>
    public void AfterCommit(Action action) => (_afterCommit ??= []).Add(action);

    internal IReadOnlyList<Action> AfterCommitActions => (IReadOnlyList<Action>?)_afterCommit ?? [];
}
