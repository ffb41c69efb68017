using System.Globalization;
using System.Text;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace Lenta.Server.Platform.Cache;

/// <summary>
/// The memory cache on Redis (one server or a Redis Cluster), shared by every Lenta process: nothing is kept in this
/// process between calls, so a write through one process is what the next read through any other sees. On a cluster
/// every command touches one key (a batch is one pipelined round trip of single-key commands), so none spans hash
/// slots; on a single server a batch read is one MGET and a fan-out one script over all its keys. Byte values carry a one-byte header (<c>b</c>, or <c>v</c> and a 20-digit version for
/// <see cref="SetManyIfNewerAsync"/>); counters are Redis integers; sorted sets are described in <see cref="RedisScripts"/>.
/// When Redis does not answer within its timeout, reads are misses (callers go to the database) and writes are
/// dropped, their keys remembered and deleted once Redis answers again (<see cref="RedisCacheRepairs"/>): a cache
/// that missed a write must not serve the value from before it.
/// </summary>
public sealed class RedisCache : ICache, IDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly StackExchange.Redis.IDatabase _db;
    private readonly string _keyPrefix;
    private readonly RedisCacheRepairs _repairs;
    private readonly RedisFillGate _gate;
    private Task? _gateOpened;
    private readonly DecodedMemo _decoded = new();
    private int _cluster = -1; // unknown until a server answered: 1 cluster, 0 single server

    /// <param name="redis">the connection, which this cache owns from now on (see <see cref="Connect"/>)</param>
    /// <param name="keyPrefix">prepended to every key</param>
    /// <param name="log">where unavailability is reported</param>
    public RedisCache(IConnectionMultiplexer redis, string keyPrefix, ILogger<RedisCache> log)
    {
        _redis = redis;
        _keyPrefix = keyPrefix;
        _db = keyPrefix.Length == 0 ? redis.GetDatabase() : redis.GetDatabase().WithKeyPrefix(keyPrefix);
        _repairs = new RedisCacheRepairs(redis, _db, log, ClearAsync);
        _gate = new RedisFillGate(redis, _db, keyPrefix, log);
    }

    /// <summary>A connection from a StackExchange.Redis configuration string, failing fast while Redis is away.</summary>
    public static IConnectionMultiplexer Connect(string configuration, TimeSpan timeout)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;      // start (and report not ready) while Redis is down; reconnect by itself
        options.AllowAdmin = true;               // ClearAsync's SCAN and FLUSHALL
        options.BacklogPolicy = BacklogPolicy.FailFast; // no queueing while disconnected: the request goes to the database now
        options.AsyncTimeout = options.SyncTimeout = (int)timeout.TotalMilliseconds;
        options.ConnectTimeout = Math.Max(options.ConnectTimeout, (int)timeout.TotalMilliseconds);
        return ConnectionMultiplexer.Connect(options);
    }

    public bool OutlivesProcess => true;

    public bool SharedAcrossProcesses => true;

    /// <summary>Keys whose write failed and that wait to be deleted (tests, health).</summary>
    public int PendingRepairs => _repairs.Pending;

    public async ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        var values = await GetRawAsync(keys);
        var result = new byte[]?[keys.Count];
        for (var i = 0; i < result.Length; i++)
            result[i] = Payload(values[i]);
        return result;
    }

    public async ValueTask<T?[]> GetManyDecodedAsync<T>(IReadOnlyList<string> keys, Func<byte[], T> decode, CancellationToken ct = default) where T : class
    {
        var values = await GetRawAsync(keys);
        var result = new T?[keys.Count];
        for (var i = 0; i < result.Length; i++)
            result[i] = Payload(values[i]) is { } bytes ? _decoded.Decode(bytes, decode) : null;
        return result;
    }

    public ValueTask<T?[]> GetManyDecodedAsync<T>(string prefix, IReadOnlyList<long> ids, Func<byte[], T> decode, CancellationToken ct = default) where T : class =>
        GetManyDecodedAsync(Keys(prefix, ids), decode, ct);

    public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default) =>
        _repairs.WriteAsync(key, () => _db.StringSetAsync(key, Stored(value.Span), ttl, When.Always));

    public ValueTask<bool> AddAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken ct = default) =>
        // A failed add reports success: its callers (fills, the rebuild lock) then go on as the only writer, which is
        // what they would do with no cache at all.
        _repairs.WriteAsync(key, () => _db.StringSetAsync(key, Stored(value.Span), ttl, When.NotExists), ifFailed: true);

    public ValueTask AddManyAsync(IReadOnlyList<KeyValuePair<string, byte[]>> items, TimeSpan? ttl = null, CancellationToken ct = default) =>
        FillAsync(items.Select(i => i.Key).ToList(), items.Select(i => (RedisValue)Stored(i.Value)).ToList(), ttl);

    public ValueTask SetManyIfNewerAsync(IReadOnlyList<VersionedValue> items, TimeSpan? ttl = null, CancellationToken ct = default)
    {
        var px = ttl is { } t ? (long)t.TotalMilliseconds : 0;
        return _repairs.WriteManyAsync(items.Select(i => i.Key).ToList(), () => Task.WhenAll(items.Select(i =>
            _db.ScriptEvaluateAsync(RedisScripts.SetIfNewer, [i.Key], [Versioned(i.Value, i.Version), px]))));
    }

    public ValueTask<bool> RemoveAsync(string key, CancellationToken ct = default) =>
        _repairs.WriteAsync(key, () => _db.KeyDeleteAsync(key), ifFailed: false);

    public async ValueTask<long?> IncrementIfPresentAsync(string key, long delta, CancellationToken ct = default)
    {
        var result = await _repairs.WriteAsync(key, async () => (RedisResult?)await _db.ScriptEvaluateAsync(RedisScripts.IncrementIfPresent, [key], [delta]), ifFailed: null);
        return result is null || result.IsNull ? null : (long)result;
    }

    public async ValueTask<long> IncrementAsync(string key, long delta, TimeSpan ttl, CancellationToken ct = default)
    {
        var result = await _repairs.WriteAsync(key, async () => (RedisResult?)await _db.ScriptEvaluateAsync(RedisScripts.IncrementWithTtl, [key], [delta, (long)ttl.TotalMilliseconds]), ifFailed: null);
        return result is null || result.IsNull ? delta : (long)result;
    }

    public async ValueTask<long?> GetCounterAsync(string key, CancellationToken ct = default) =>
        Counter((await GetRawAsync([key]))[0]);

    public async ValueTask<long?[]> GetCountersAsync(string prefix, IReadOnlyList<long> ids, CancellationToken ct = default)
    {
        var values = await GetRawAsync(Keys(prefix, ids));
        var result = new long?[ids.Count];
        for (var i = 0; i < result.Length; i++)
            result[i] = Counter(values[i]);
        return result;
    }

    public ValueTask AddCountersAsync(IReadOnlyList<KeyValuePair<string, long>> items, TimeSpan? ttl = null, CancellationToken ct = default) =>
        FillAsync(items.Select(i => i.Key).ToList(), items.Select(i => (RedisValue)i.Value).ToList(), ttl);

    /// <summary>
    /// Add-if-absent of what a reader read from the database, only while the fill gate stands (<see cref="RedisFillGate"/>):
    /// on one server one script for the batch, on a cluster one per key (its gate in its slot), pipelined.
    /// </summary>
    private async ValueTask FillAsync(List<string> keys, List<RedisValue> values, TimeSpan? ttl)
    {
        if (keys.Count == 0)
            return;
        await (_gateOpened ??= OpenGateAsync());
        RedisValue px = ttl is { } t ? (long)t.TotalMilliseconds : 0;
        var cluster = IsCluster;
        await _repairs.WriteManyAsync(keys, async () =>
        {
            if (!cluster)
            {
                var gate = _gate.GateFor(keys[0], cluster: false);
                RedisKey[] k = [gate, .. keys.Select(key => (RedisKey)key)];
                RedisValue[] a = [px, .. values];
                if ((long)await _db.ScriptEvaluateAsync(RedisScripts.FillIfOpen, k, a) < 0)
                    _gate.Refused(gate);
                return;
            }
            await Task.WhenAll(keys.Select(async (key, i) =>
            {
                var gate = _gate.GateFor(key, cluster: true);
                if ((long)await _db.ScriptEvaluateAsync(RedisScripts.FillIfOpen, [gate, key], [px, values[i]]) < 0)
                    _gate.Refused(gate);
            }));
        });
    }

    /// <summary>A process opens the fill gates when it first fills (a new key prefix starts with none).</summary>
    private async Task OpenGateAsync()
    {
        try
        {
            await _gate.OpenAllAsync(IsCluster);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis is away: fills find no gate and open it after the wait, as after an emptied Redis.
        }
    }

    public ValueTask SortedReplaceAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default) =>
        _repairs.WriteAsync(key, () => _db.ScriptEvaluateAsync(RedisScripts.SortedReplace, [key], SortedArgs(Math.Max(0, cap), ids.Span)));

    public async ValueTask<bool> SortedAddIfPresentAsync(string key, ReadOnlyMemory<long> ids, int cap, CancellationToken ct = default)
    {
        var args = SortedArgs(Math.Max(0, cap), ids.Span);
        var result = await _repairs.WriteAsync(key, async () => (RedisResult?)await _db.ScriptEvaluateAsync(RedisScripts.SortedAddIfPresent, [key], args), ifFailed: null);
        return result is not null && (long)result == 1;
    }

    public ValueTask SortedRemoveAsync(string key, ReadOnlyMemory<long> ids, CancellationToken ct = default)
    {
        var members = ids.ToArray().Select(id => (RedisValue)Member(id)).ToArray();
        return _repairs.WriteAsync(key, () => _db.SortedSetRemoveAsync(key, members));
    }

    public async ValueTask<int> SortedAddToManyIfPresentAsync(IReadOnlyList<string> keys, long id, int cap, CancellationToken ct = default)
    {
        RedisValue[] args = [Math.Max(0, cap), Member(id)];
        if (keys.Count == 0)
            return 0;
        if (!IsCluster)
        {
            var keyArray = keys.Select(k => (RedisKey)k).ToArray();
            var added = await _repairs.WriteManyAsync(keys, async () => (RedisResult?)await _db.ScriptEvaluateAsync(RedisScripts.SortedAddToMany, keyArray, args), ifFailed: null);
            return added is null ? 0 : (int)added;
        }
        var results = await _repairs.WriteManyAsync(keys, () => Task.WhenAll(keys.Select(k => _db.ScriptEvaluateAsync(RedisScripts.SortedAddIfPresent, [k], args))), ifFailed: []);
        return results.Count(r => (long)r == 1);
    }

    public ValueTask SortedRemoveFromManyAsync(IReadOnlyList<string> keys, long id, CancellationToken ct = default)
    {
        RedisValue member = Member(id);
        return _repairs.WriteManyAsync(keys, () => Task.WhenAll(keys.Select(k => _db.SortedSetRemoveAsync(k, member))));
    }

    public async ValueTask<long[]?> SortedRangeAsync(string key, SortedRange range, CancellationToken ct = default)
    {
        var upper = range.MaxExclusive is { } max ? "(" + Member(Math.Max(0, max)) : "+";
        var lower = range.MinExclusive is { } min && min >= 0 ? "(" + Member(min) : "[" + Member(0);
        var result = await _repairs.ReadAsync(async () => (RedisResult?)await _db.ScriptEvaluateAsync(RedisScripts.SortedRange, [key], [upper, lower, Math.Max(0, range.Limit), range.Ascending ? 1 : 0]), null);
        if (result is null || result.IsNull)
            return null;
        var members = (RedisValue[])result!;
        var ids = new long[members.Length];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = long.Parse((string)members[i]!, NumberStyles.None, CultureInfo.InvariantCulture);
        return ids;
    }

    /// <summary>Deletes this cache's keys (those under its key prefix; with no prefix, everything) on every primary.</summary>
    public async ValueTask ClearAsync(CancellationToken ct = default)
    {
        var raw = _redis.GetDatabase();
        foreach (var endpoint in _redis.GetEndPoints())
        {
            var server = _redis.GetServer(endpoint);
            if (server.IsReplica || !server.IsConnected)
                continue;
            if (_keyPrefix.Length == 0)
            {
                await server.FlushAllDatabasesAsync();
                continue;
            }
            var batch = new List<Task>();
            await foreach (var key in server.KeysAsync(pattern: _keyPrefix + "*", pageSize: 1000).WithCancellation(ct))
            {
                batch.Add(raw.KeyDeleteAsync(key));
                if (batch.Count >= 1000)
                {
                    await Task.WhenAll(batch);
                    batch.Clear();
                }
            }
            await Task.WhenAll(batch);
        }
        // A clear is this process's own act (a test's, or a repair's after too many missed writes), not a wipe behind its
        // back: the gates open again at once, so fills go on as they did after a clear before the gates.
        await _gate.OpenAllAsync(IsCluster);
    }

    /// <summary>Every primary answers (a cluster is ready only when all of its slots are served).</summary>
    public async Task PingAsync(CancellationToken ct)
    {
        var primaries = _redis.GetEndPoints().Select(e => _redis.GetServer(e)).Where(s => !s.IsReplica).ToList();
        if (primaries.Count == 0)
            throw new InvalidOperationException("No Redis server is known.");
        await Task.WhenAll(primaries.Select(s => s.PingAsync())).WaitAsync(ct);
    }

    /// <summary>Ends the repairs and closes the connection (this cache owns it).</summary>
    public void Dispose()
    {
        _repairs.Dispose();
        _gate.Dispose();
        _redis.Dispose();
    }

    private Task<RedisValue[]> GetRawAsync(IReadOnlyList<string> keys) =>
        _repairs.ReadOrElseAsync(
            () => keys.Count <= 1 || IsCluster ? Task.WhenAll(keys.Select(k => _db.StringGetAsync(k))) : _db.StringGetAsync(keys.Select(k => (RedisKey)k).ToArray()),
            () => new RedisValue[keys.Count]);

    /// <summary>Whether Redis is a cluster (multi-key commands only within one slot); taken as one until a server has said.</summary>
    private bool IsCluster
    {
        get
        {
            if (_cluster >= 0)
                return _cluster == 1;
            foreach (var endpoint in _redis.GetEndPoints())
            {
                var server = _redis.GetServer(endpoint);
                if (server.IsConnected)
                {
                    _cluster = server.ServerType == ServerType.Cluster ? 1 : 0;
                    return _cluster == 1;
                }
            }
            return true;
        }
    }

    private static List<string> Keys(string prefix, IReadOnlyList<long> ids)
    {
        var keys = new List<string>(ids.Count);
        foreach (var id in ids)
            keys.Add(prefix + id.ToString(CultureInfo.InvariantCulture));
        return keys;
    }

    private static string Member(long id) => id.ToString("D20", CultureInfo.InvariantCulture);

    private static RedisValue[] SortedArgs(int cap, ReadOnlySpan<long> ids)
    {
        var args = new RedisValue[ids.Length + 1];
        args[0] = cap;
        for (var i = 0; i < ids.Length; i++)
            args[i + 1] = Member(ids[i]);
        return args;
    }

    private static byte[] Stored(ReadOnlySpan<byte> value)
    {
        var stored = new byte[value.Length + 1];
        stored[0] = (byte)'b';
        value.CopyTo(stored.AsSpan(1));
        return stored;
    }

    private static byte[] Versioned(byte[] value, long version)
    {
        var stored = new byte[value.Length + 21];
        stored[0] = (byte)'v';
        Encoding.ASCII.GetBytes(Math.Max(0, version).ToString("D20", CultureInfo.InvariantCulture), stored.AsSpan(1, 20));
        value.CopyTo(stored.AsSpan(21));
        return stored;
    }

    /// <summary>The bytes a caller stored, without their header; null when missing (or not a byte value).</summary>
    private static byte[]? Payload(RedisValue value)
    {
        if (value.IsNull)
            return null;
        var stored = (byte[])value!;
        return stored.Length switch
        {
            > 0 when stored[0] == 'b' => stored.AsSpan(1).ToArray(),
            >= 21 when stored[0] == 'v' => stored.AsSpan(21).ToArray(),
            _ => null,
        };
    }

    private static long? Counter(RedisValue value) => value.IsNull ? null : value.TryParse(out long n) ? n : null;
}
