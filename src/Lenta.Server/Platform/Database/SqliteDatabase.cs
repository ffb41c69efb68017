using System.Data.Common;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Lenta.Server.Platform.Database;

/// <summary>
/// SQLite used the way it is fast: WAL (readers never block the writer), one writer connection that
/// group-commits whatever writes are waiting into one transaction, each in its own savepoint so one
/// failing write does not undo its neighbours, and <c>synchronous=FULL</c> so the commit that
/// acknowledges them is fsynced. Reads use read-only connections kept open in a lock-free pool of our own
/// (Microsoft.Data.Sqlite's pool takes a lock per open, which many concurrent reads contend on).
/// </summary>
public sealed class SqliteDatabase : IDatabase, IAsyncDisposable
{
    private readonly string _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly Channel<WriteItem> _queue = Channel.CreateUnbounded<WriteItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly int _maxBatch;
    private readonly ILogger _log;
    private readonly Task _loop;
    private readonly System.Collections.Concurrent.ConcurrentBag<SqliteConnection> _readers = [];
    private readonly int _maxIdleReaders = Math.Max(8, Environment.ProcessorCount * 4);

    public SqliteDatabase(string connectionString, int maxBatch, ILogger<SqliteDatabase> log)
    {
        _log = log;
        _maxBatch = Math.Max(1, maxBatch);
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true };
        var dir = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);

        _writer = new SqliteConnection(new SqliteConnectionStringBuilder(builder.ConnectionString) { Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ConnectionString);
        _writer.Open();
        // How long a write waits for a lock another process holds (a backup, a second node) before its batch fails: "Default Timeout" seconds.
        _writer.Execute($"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout={builder.DefaultTimeout * 1000}; PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY;");
        // Checkpoints run beside the writer (CheckpointLoopAsync), not inside its commits: SQLite's automatic one copies
        // the WAL into the database and fsyncs it in whichever commit crosses 1,000 pages, stalling every write queued
        // behind it. The writer keeps a far larger automatic threshold only as a bound should that loop fall behind.
        _writer.Execute($"PRAGMA wal_autocheckpoint={SafetyCheckpointPages};");
        _statements = new SqliteStatements(_writer);
        _checkpointConnectionString = new SqliteConnectionStringBuilder(builder.ConnectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ConnectionString;
        _readConnectionString = new SqliteConnectionStringBuilder(builder.ConnectionString) { Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString;
        FilePath = Path.GetFullPath(builder.DataSource);
        _loop = Task.Factory.StartNew(WriterLoopAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        // A thread of its own: a checkpoint copies pages and fsyncs the database file for up to tens of milliseconds,
        // synchronously, which on a pool thread of a 2-core machine is a worker the requests do not have.
        _checkpoints = Task.Factory.StartNew(CheckpointLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private const int SafetyCheckpointPages = 16_384;
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(500);
    private readonly string _checkpointConnectionString;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _checkpoints;
    private long _commits;
    private readonly SqliteStatements _statements;

    /// <summary>
    /// Every half second after commits, a PASSIVE checkpoint on a connection of its own: it copies committed WAL frames
    /// into the database without blocking the writer or readers (SQLite restarts the WAL from the beginning once it is
    /// fully copied and unread). Durability does not depend on it: a commit is durable in the WAL.
    /// </summary>
    private void CheckpointLoop()
    {
        SqliteConnection? connection = null;
        long done = 0;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                _stopping.Token.WaitHandle.WaitOne(CheckpointEvery);
                var commits = Interlocked.Read(ref _commits);
                if (commits == done || _stopping.IsCancellationRequested)
                    continue;
                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(_checkpointConnectionString);
                        connection.Open();
                    }
                    connection.Execute("PRAGMA wal_checkpoint(PASSIVE);");
                    done = commits;
                }
                catch (SqliteException error)
                {
                    _log.LogWarning(error, "A WAL checkpoint failed; the next one retries");
                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    public DbProvider Provider => DbProvider.Sqlite;

    public string FilePath { get; }

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken ct = default)
    {
        if (!_readers.TryTake(out var connection))
        {
            connection = new SqliteConnection(_readConnectionString);
            await connection.OpenAsync(ct);
        }
        var keep = false;
        try
        {
            var result = await work(connection);
            keep = connection.State == System.Data.ConnectionState.Open;
            return result;
        }
        finally
        {
            if (keep && _readers.Count < _maxIdleReaders)
                _readers.Add(connection);
            else
                await connection.DisposeAsync();
        }
    }

    public async Task<T> WriteAsync<T>(Func<DbWrite, Task<T>> work, CancellationToken ct = default)
    {
        var item = new WriteItem<T>(work, ct);
        if (!_queue.Writer.TryWrite(item))
            throw new ObjectDisposedException(nameof(SqliteDatabase), "The database is shutting down.");
        var result = await item.Task;
        // On the caller's flow, not the writer's: the writer never waits on a cache.
        await item.Write!.RunAfterCommitAsync(_log);
        return result;
    }

    public Task PingAsync(CancellationToken ct) =>
        ReadAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: ct)), ct);

    private async Task WriterLoopAsync()
    {
        var batch = new List<(WriteItem Item, DbWrite Write)>(_maxBatch);
        var taken = new List<WriteItem>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            taken.Clear();
            try
            {
                await RunBatchAsync(batch, taken);
            }
            catch (Exception error)
            {
                // BEGIN or SAVEPOINT failed (the file locked past the busy timeout, disk full, I/O error): fail what
                // this batch took, and keep the writer alive for the next one.
                _log.LogError(error, "A write batch could not run; failing its {Count} writes", taken.Count);
                foreach (var item in taken)
                    item.Fail(error);
                TryRollbackOpen();
            }
        }
    }

    private async Task RunBatchAsync(List<(WriteItem Item, DbWrite Write)> batch, List<WriteItem> taken)
    {
        // Take the batch before BEGIN, so a BEGIN that fails (a lock held past the busy timeout) fails these writes
        // instead of leaving them queued behind a writer that retries forever.
        while (taken.Count < _maxBatch && _queue.Reader.TryRead(out var next))
            taken.Add(next);
        await using var tx = (SqliteTransaction)await _writer.BeginTransactionAsync(); // BEGIN IMMEDIATE
        var broken = false;
        foreach (var item in taken)
        {
            if (broken)
            {
                item.Fail(new InvalidOperationException("The write batch was rolled back after a storage error; nothing of this write was kept."));
                continue;
            }
            if (item.Cancellation.IsCancellationRequested)
            {
                item.Fail(new OperationCanceledException(item.Cancellation));
                continue;
            }
            var write = new DbWrite(_writer, tx, _statements);
            item.Write = write;
            // Prepared once (SqliteTransaction.Save/Release prepare them anew each time).
            _statements.Execute("SAVEPOINT w", tx);
            try
            {
                await item.RunAsync(write);
                _statements.Execute("RELEASE w", tx);
                batch.Add((item, write));
            }
            catch (Exception error)
            {
                item.Fail(error);
                try
                {
                    _statements.Execute("ROLLBACK TO w", tx);
                    _statements.Execute("RELEASE w", tx);
                }
                catch (Exception rollbackError)
                {
                    _log.LogError(rollbackError, "Rolling back a failed write broke the batch; failing the batch");
                    broken = true;
                }
            }
        }

        if (broken)
        {
            TryRollback(tx);
            foreach (var (item, _) in batch)
                item.Fail(new InvalidOperationException("The write batch was rolled back after a storage error; nothing of this write was kept."));
            return;
        }

        try
        {
            await tx.CommitAsync();
            Interlocked.Increment(ref _commits);
        }
        catch (Exception error)
        {
            _log.LogError(error, "Group commit of {Count} writes failed", batch.Count);
            TryRollback(tx);
            foreach (var (item, _) in batch)
                item.Fail(error);
            return;
        }

        foreach (var (item, _) in batch)
            item.Complete();
    }

    private void TryRollbackOpen()
    {
        try
        {
            using var cmd = _writer.CreateCommand();
            cmd.CommandText = "ROLLBACK";
            cmd.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // No transaction was open.
        }
    }

    private static void TryRollback(SqliteTransaction tx)
    {
        try
        {
            tx.Rollback();
        }
        catch (Exception)
        {
            // The connection already ended the transaction.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        await _stopping.CancelAsync();
        await _checkpoints;
        _stopping.Dispose();
        _statements.Dispose();
        await _writer.DisposeAsync();
        while (_readers.TryTake(out var reader))
            await reader.DisposeAsync();
    }

    private abstract class WriteItem(CancellationToken cancellation)
    {
        public CancellationToken Cancellation { get; } = cancellation;
        public DbWrite? Write { get; set; }
        public abstract Task RunAsync(DbWrite write);
        public abstract void Complete();
        public abstract void Fail(Exception error);
    }

    private sealed class WriteItem<T>(Func<DbWrite, Task<T>> work, CancellationToken cancellation) : WriteItem(cancellation)
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _done.Task;

        public override async Task RunAsync(DbWrite write) => _result = await work(write);

        public override void Complete() => _done.TrySetResult(_result);

        public override void Fail(Exception error)
        {
            if (error is OperationCanceledException oce)
                _done.TrySetCanceled(oce.CancellationToken);
            else
                _done.TrySetException(error);
        }
    }
}
