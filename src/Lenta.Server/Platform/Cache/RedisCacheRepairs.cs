using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Lenta.Server.Platform.Cache;

/// <summary>
/// What <see cref="RedisCache"/> does when Redis does not answer: a read is a miss, so the caller reads the database; a
/// write is dropped and its key remembered, then deleted once Redis answers again (checked every second), so no
/// reader is served the value from before the write it missed (a like counted, a post pushed, a row changed). The
/// keys wait here in memory: past <see cref="MaxPending"/> of them, the whole cache is cleared instead. A process that
/// dies while Redis is away loses its list; what it missed then lasts until the keys' own expiry or eviction. After a
/// failure, calls fail at once for <see cref="OpenFor"/> instead of each waiting out the timeout (a request makes several
/// cache calls: a frozen Redis would otherwise cost it a timeout per call).
/// </summary>
internal sealed class RedisCacheRepairs : IDisposable
{
    private const int MaxPending = 100_000;
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan OpenFor = TimeSpan.FromSeconds(1);
    private readonly IConnectionMultiplexer _redis;
    private readonly StackExchange.Redis.IDatabase _db;
    private readonly ILogger _log;
    private readonly Func<CancellationToken, ValueTask> _clear;
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);
    private readonly Timer _timer;
    private volatile bool _overflowed;
    private int _repairing;
    private long _lastLogTicks;
    private long _openUntilTicks;

    public RedisCacheRepairs(IConnectionMultiplexer redis, StackExchange.Redis.IDatabase db, ILogger log, Func<CancellationToken, ValueTask> clear)
    {
        _redis = redis;
        _db = db;
        _log = log;
        _clear = clear;
        _timer = new Timer(_ => _ = RepairAsync(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public int Pending => _pending.Count + (_overflowed ? 1 : 0);

    public async Task<T> ReadAsync<T>(Func<Task<T>> read, T miss)
    {
        try
        {
            ThrowIfOpen();
            return await read();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            Report(e);
            return miss;
        }
    }

    public async Task<T> ReadOrElseAsync<T>(Func<Task<T>> read, Func<T> miss)
    {
        try
        {
            ThrowIfOpen();
            return await read();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            Report(e);
            return miss();
        }
    }

    public async ValueTask WriteAsync(string key, Func<Task> write)
    {
        try
        {
            ThrowIfOpen();
            await write();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            Failed(key, e);
        }
    }

    public async ValueTask<T> WriteAsync<T>(string key, Func<Task<T>> write, T ifFailed)
    {
        try
        {
            ThrowIfOpen();
            return await write();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            Failed(key, e);
            return ifFailed;
        }
    }

    public async ValueTask WriteManyAsync(IReadOnlyList<string> keys, Func<Task> write)
    {
        try
        {
            ThrowIfOpen();
            await write();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            foreach (var key in keys)
                Failed(key, e);
        }
    }

    public async ValueTask<T> WriteManyAsync<T>(IReadOnlyList<string> keys, Func<Task<T>> write, T ifFailed)
    {
        try
        {
            ThrowIfOpen();
            return await write();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            foreach (var key in keys)
                Failed(key, e);
            return ifFailed;
        }
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Redis failed a moment ago: fail now rather than wait for it again.</summary>
    private void ThrowIfOpen()
    {
        if (DateTime.UtcNow.Ticks < Interlocked.Read(ref _openUntilTicks))
            throw new RedisUnavailableException();
    }

    /// <summary>Redis (or the network to it) failed, as opposed to a mistake in the command.</summary>
    internal static bool IsUnavailable(Exception e) =>
        e is RedisConnectionException or RedisTimeoutException or RedisServerException or TimeoutException or RedisUnavailableException;

    private void Failed(string key, Exception e)
    {
        if (_pending.Count < MaxPending)
            _pending.TryAdd(key, 0);
        else
            _overflowed = true;
        Report(e);
    }

    private void Report(Exception e)
    {
        if (e is not RedisUnavailableException)
            Interlocked.Exchange(ref _openUntilTicks, DateTime.UtcNow.Ticks + OpenFor.Ticks);
        var now = DateTime.UtcNow.Ticks;
        var last = Interlocked.Read(ref _lastLogTicks);
        if (now - last < LogEvery.Ticks || Interlocked.CompareExchange(ref _lastLogTicks, now, last) != last)
            return;
        _log.LogWarning("Redis unavailable ({Reason}): reads go to the database; {Pending} keys wait to be repaired", e.Message, Pending);
    }

    private async Task RepairAsync()
    {
        if ((_pending.IsEmpty && !_overflowed) || !_redis.IsConnected || DateTime.UtcNow.Ticks < Interlocked.Read(ref _openUntilTicks)
            || Interlocked.Exchange(ref _repairing, 1) == 1)
            return;
        try
        {
            if (_overflowed)
            {
                _overflowed = false;
                _pending.Clear();
                await _clear(CancellationToken.None);
                _log.LogWarning("Redis is back: cleared the cache, too many writes were missed to repair one by one");
                return;
            }
            var keys = _pending.Keys.Take(10_000).ToList();
            await Task.WhenAll(keys.Select(k => _db.KeyDeleteAsync(k)));
            foreach (var key in keys)
                _pending.TryRemove(key, out _);
            _log.LogInformation("Redis is back: deleted {Count} keys whose writes were missed", keys.Count);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            Report(e);
        }
        finally
        {
            Volatile.Write(ref _repairing, 0);
        }
    }
}

/// <summary>A cache call not made because Redis failed a moment ago.</summary>
internal sealed class RedisUnavailableException() : Exception("Redis failed a moment ago; not asking again yet.");
