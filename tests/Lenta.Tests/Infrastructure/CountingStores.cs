using System.Data.Common;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;

namespace Lenta.Tests.Infrastructure;

/// <summary>Wraps the real database and cache (no behaviour changed) to count round trips a request makes.</summary>
public sealed class StoreCounter
{
    private int _reads;
    private int _writes;
    private int _cacheCalls;

    public int Reads => _reads;
    public int Writes => _writes;
    public int CacheCalls => _cacheCalls;
    public int Total => _reads + _writes + _cacheCalls;

    /// <summary>Awaited before every <c>IncrementIfPresentAsync</c> with its key (tests widen a race with a delay here).</summary>
    public Func<string, Task>? BeforeIncrementIfPresent { get; set; }

    /// <summary>Awaited before every <c>SortedReplaceAsync</c> (a timeline rebuild's write) with its key.</summary>
    public Func<string, Task>? BeforeSortedReplace { get; set; }

    public void Reset()
    {
        _reads = 0;
        _writes = 0;
        _cacheCalls = 0;
    }

    /// <summary><paramref name="db"/>, its round trips counted here.</summary>
    public IDatabase Counting(IDatabase db) => new CountingDatabase(db, this);

    public static Action<IServiceCollection> Decorate(StoreCounter counter) => services =>
    {
        var db = services.Last(d => d.ServiceType == typeof(IDatabase));
        services.Add(new ServiceDescriptor(typeof(IDatabase), sp => counter.Counting((IDatabase)db.ImplementationFactory!(sp)), ServiceLifetime.Singleton));
        var cache = services.Last(d => d.ServiceType == typeof(ICache));
        services.Add(new ServiceDescriptor(typeof(ICache), sp => new CountingCache((ICache)cache.ImplementationFactory!(sp), counter), ServiceLifetime.Singleton));
    };

    private sealed class CountingDatabase(IDatabase inner, StoreCounter counter) : IDatabase, IAsyncDisposable
    {
        public DbProvider Provider => inner.Provider;

        public Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken ct = default)
        {
            Interlocked.Increment(ref counter._reads);
            return inner.ReadAsync(work, ct);
        }

        public Task<T> WriteAsync<T>(Func<DbWrite, Task<T>> work, CancellationToken ct = default)
        {
            Interlocked.Increment(ref counter._writes);
            return inner.WriteAsync(work, ct);
        }

        public Task PingAsync(CancellationToken ct) => inner.PingAsync(ct);

        public ValueTask DisposeAsync() => inner is IAsyncDisposable d ? d.DisposeAsync() : ValueTask.CompletedTask;
    }

    private sealed class CountingCache(ICache inner, StoreCounter counter) : ICache
    {
        private ICache Tick()
        {
            Interlocked.Increment(ref counter._cacheCalls);
            return inner;
        }

        public ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken ct = default) => Tick().GetManyAsync(keys, ct);
        public ValueTask<T?[]> GetManyDecodedAsync<T>(IReadOnlyList<string> keys, Func<byte[], T> decode, CancellationToken ct = default) where T : class => Tick().GetManyDecodedAsync(keys, decode, ct);
        public ValueTask<T?[]> GetManyDecodedAsync<T>(string prefix, IReadOnlyList<long> ids, Func<byte[], T> decode, CancellationToken ct = default) where T : class => Tick().GetManyDecodedAsync(prefix, ids, decode, ct);
        public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default) => Tick().SetAsync(key, value, ttl, ct);
        public ValueTask<bool> AddAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default) => Tick().AddAsync(key, value, ttl, ct);
        public ValueTask AddManyAsync(IReadOnlyList<KeyValuePair<string, byte[]>> items, TimeSpan? ttl = null, CancellationToken ct = default) => Tick().AddManyAsync(items, ttl, ct);
        public ValueTask SetManyIfNewerAsync(IReadOnlyList<VersionedValue> items, TimeSpan? ttl = null, CancellationToken ct = default) => Tick().SetManyIfNewerAsync(items, ttl, ct);
        public ValueTask<bool> RemoveAsync(string key, CancellationToken ct = default) => Tick().RemoveAsync(key, ct);
        public async ValueTask<long?> IncrementIfPresentAsync(string key, long delta, CancellationToken ct = default)
        {
            if (counter.BeforeIncrementIfPresent is { } before)
                await before(key);
            return await Tick().IncrementIfPresentAsync(key, delta, ct);
        }
        public ValueTask<long> IncrementAsync(string key, long delta, TimeSpan ttl, CancellationToken ct = default) => Tick().IncrementAsync(key, delta, ttl, ct);
        public ValueTask<long?> GetCounterAsync(string key, CancellationToken ct = default) => Tick().GetCounterAsync(key, ct);
        public ValueTask<long?[]> GetCountersAsync(string prefix, IReadOnlyList<long> ids, CancellationToken ct = default) => Tick().GetCountersAsync(prefix, ids, ct);
        public ValueTask AddCountersAsync(IReadOnlyList<KeyValuePair<string, long>> items, TimeSpan? ttl = null, CancellationToken ct = default) => Tick().AddCountersAsync(items, ttl, ct);
        public async ValueTask SortedReplaceAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default)
        {
            if (counter.BeforeSortedReplace is { } before)
                await before(key);
            await Tick().SortedReplaceAsync(key, ids, cap, ct);
        }
        public ValueTask<bool> SortedAddIfPresentAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default) => Tick().SortedAddIfPresentAsync(key, ids, cap, ct);
        public ValueTask SortedRemoveAsync(string key, ReadOnlyMemory<long> ids, CancellationToken ct = default) => Tick().SortedRemoveAsync(key, ids, ct);
        public ValueTask<int> SortedAddToManyIfPresentAsync(IReadOnlyList<string> keys, long id, int cap, CancellationToken ct = default) => Tick().SortedAddToManyIfPresentAsync(keys, id, cap, ct);
        public ValueTask SortedRemoveFromManyAsync(IReadOnlyList<string> keys, long id, CancellationToken ct = default) => Tick().SortedRemoveFromManyAsync(keys, id, ct);
        public ValueTask<long[]?> SortedRangeAsync(string key, SortedRange range, CancellationToken ct = default) => Tick().SortedRangeAsync(key, range, ct);
        public ValueTask ClearAsync(CancellationToken ct = default) => inner.ClearAsync(ct);
        public ValueTask<bool> AddDecodedAsync(string key, ReadOnlyMemory<byte> value, object decoded, TimeSpan? ttl = null, CancellationToken ct = default) => Tick().AddDecodedAsync(key, value, decoded, ttl, ct);
        public bool OutlivesProcess => inner.OutlivesProcess;
        public bool SharedAcrossProcesses => inner.SharedAcrossProcesses;
        public Task PingAsync(CancellationToken ct) => inner.PingAsync(ct);
    }
}
