using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;

namespace Lenta.Server.Platform.Cache;

/// <summary>
/// Keeps <see cref="RedisCache"/>'s fills (add-if-absent writes of what a reader read from the database) out of a Redis
/// that was just emptied. The caches' facts stay exact through races by marks that a change leaves after its commit (a
/// flag's <c>~</c>, a count's in-flight counter and change stamp): a reader that read the database before the commit
/// finds the mark and does not fill. A FLUSHALL (or a restart without data) between the mark and such a fill wipes the
/// mark, and the stale fill would stand for its whole TTL. So a fill is written only while a gate key exists
/// (<c>fills-open</c>; on a Redis Cluster one per hash slot, <c>fills-open:{n}</c>, so the fill's script touches one slot):
/// an emptied Redis has none, its fills are refused (the reader answers from the database and caches nothing), and the
/// gate is written again <see cref="ReopenAfter"/> after this process first found it missing — longer than any reader's
/// database read to its fill, so every fill after that read the database after the wipe. Marks and other plain writes
/// need no gate. A gate evicted under memory pressure closes fills the same way for as long.
/// </summary>
internal sealed class RedisFillGate : IDisposable
{
    public static readonly TimeSpan ReopenAfter = TimeSpan.FromSeconds(2);
    private const string Name = "fills-open";
    private static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(500);
    private readonly IConnectionMultiplexer _redis;
    private readonly StackExchange.Redis.IDatabase _db;
    private readonly string _keyPrefix;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, long> _closedSince = new(StringComparer.Ordinal);
    private readonly Timer _timer;
    private string[]? _slotGates;
    private int _reopening;

    public RedisFillGate(IConnectionMultiplexer redis, StackExchange.Redis.IDatabase db, string keyPrefix, ILogger log)
    {
        _redis = redis;
        _db = db;
        _keyPrefix = keyPrefix;
        _log = log;
        _timer = new Timer(_ => _ = ReopenAsync(), null, CheckEvery, CheckEvery);
    }

    /// <summary>The gate a fill of <paramref name="key"/> is checked against (same hash slot on a cluster).</summary>
    public string GateFor(string key, bool cluster) => cluster ? SlotGates()[_redis.HashSlot(_keyPrefix + key)] : Name;

    /// <summary>A fill found <paramref name="gate"/> missing: it opens again <see cref="ReopenAfter"/> from now.</summary>
    public void Refused(string gate)
    {
        if (_closedSince.TryAdd(gate, DateTime.UtcNow.Ticks) && _closedSince.Count == 1)
            _log.LogInformation("Redis holds no fill gate (emptied or just started): fills wait {Seconds} s, reads go to the database", ReopenAfter.TotalSeconds);
    }

    /// <summary>Opens every gate now: after this process's own clear, or on a fresh key prefix at start.</summary>
    public async Task OpenAllAsync(bool cluster)
    {
        _closedSince.Clear();
        var gates = cluster ? SlotGates() : [Name];
        await Task.WhenAll(gates.Select(g => _db.StringSetAsync(g, "1", when: When.NotExists)));
    }

    public void Dispose() => _timer.Dispose();

    private async Task ReopenAsync()
    {
        if (_closedSince.IsEmpty || Interlocked.Exchange(ref _reopening, 1) == 1)
            return;
        try
        {
            var due = DateTime.UtcNow.Ticks - ReopenAfter.Ticks;
            var gates = _closedSince.Where(g => g.Value <= due).Select(g => g.Key).ToList();
            await Task.WhenAll(gates.Select(g => _db.StringSetAsync(g, "1", when: When.NotExists)));
            foreach (var gate in gates)
                _closedSince.TryRemove(gate, out _);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis is away: the gates stay closed and are tried again at the next check.
        }
        finally
        {
            Volatile.Write(ref _reopening, 0);
        }
    }

    /// <summary>For each of the 16,384 hash slots a gate name in it, found by trying hash tags in order (once per process).</summary>
    private string[] SlotGates()
    {
        if (_slotGates is { } known)
            return known;
        var gates = new string?[16384];
        if (_redis.HashSlot(_keyPrefix + "a") == _redis.HashSlot(_keyPrefix + "b"))
            return _slotGates = Array.ConvertAll(gates, _ => Name); // the key prefix has a hash tag: every key in one slot
        var left = gates.Length;
        for (var n = 0; left > 0; n++)
        {
            var name = $"{Name}:{{{n.ToString(CultureInfo.InvariantCulture)}}}";
            var slot = _redis.HashSlot(_keyPrefix + name);
            if (gates[slot] is null)
            {
                gates[slot] = name;
                left--;
            }
        }
        return _slotGates = gates!;
    }
}
