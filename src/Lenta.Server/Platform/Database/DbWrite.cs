using System.Data.Common;
using Dapper;

namespace Lenta.Server.Platform.Database;

/// <summary>One write unit's view of the open transaction, with Dapper helpers that always pass it.</summary>
public sealed class DbWrite(DbConnection connection, DbTransaction transaction, DbProvider provider)
{
    private List<Func<Task>>? _afterCommit;

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
