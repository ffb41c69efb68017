namespace Lenta.Server.Platform.Cache;

/// <summary>
/// The Lua scripts behind <see cref="RedisCache"/>'s conditional operations. Each touches exactly one key (its
/// <c>KEYS[1]</c>) or, on a cluster, a fill and its gate in one hash slot, so it runs on whichever Redis Cluster node
/// owns that slot, and Redis runs it atomically (redis.io/docs/latest/develop/interact/programmability/eval-intro). Sorted sets of ids hold every member at score
/// 0, named by its id in 20 zero-padded digits, so their lexicographic order is the ids' numeric order (a double
/// score would round 64-bit ids), plus the member <c>-</c>, which sorts below every id: it keeps an empty set in
/// existence (Redis deletes an empty sorted set) and is never read.
/// </summary>
internal static class RedisScripts
{
    /// <summary>Keeps the <c>ARGV[1]</c> largest ids (rank 0 is the sentinel).</summary>
    private const string Trim = """
        local over = redis.call('ZCARD', KEYS[1]) - 1 - tonumber(ARGV[1])
        if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 1, over) end
        """;

    /// <summary>Adds members <c>ARGV[2..]</c> in chunks (a Lua call takes a bounded number of arguments).</summary>
    private const string AddMembers = """
        local args = {}
        for i = 2, #ARGV do
          args[#args + 1] = 0
          args[#args + 1] = ARGV[i]
          if #args >= 1000 then redis.call('ZADD', KEYS[1], unpack(args)); args = {} end
        end
        if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
        """;

    /// <summary>ARGV: cap, ids…. Replaces the set whole; it exists afterwards even when empty.</summary>
    public const string SortedReplace = "redis.call('DEL', KEYS[1])\nredis.call('ZADD', KEYS[1], 0, '-')\n" + AddMembers + "\n" + Trim;

    /// <summary>ARGV: cap, ids…. 1 when the set existed and took them, 0 (nothing stored) when it did not exist.</summary>
    public const string SortedAddIfPresent = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n" + AddMembers + "\n" + Trim + "\nreturn 1";

    /// <summary>
    /// Fan-out on a single Redis server (a cluster has no multi-key script across slots): KEYS are many sets, ARGV the
    /// cap and one id; the id is added to each set that exists, trimmed to the cap. Returns how many sets took it.
    /// </summary>
    public const string SortedAddToMany = """
        local cap = tonumber(ARGV[1])
        local added = 0
        for i = 1, #KEYS do
          if redis.call('EXISTS', KEYS[i]) == 1 then
            redis.call('ZADD', KEYS[i], 0, ARGV[2])
            local over = redis.call('ZCARD', KEYS[i]) - 1 - cap
            if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[i], 1, over) end
            added = added + 1
          end
        end
        return added
        """;

    /// <summary>ARGV: upper bound, lower bound (ZRANGE BYLEX syntax), limit, 1 for ascending. Nil when the set does not exist.</summary>
    public const string SortedRange = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        if tonumber(ARGV[3]) <= 0 then return {} end
        if ARGV[4] == '1' then
          return redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[1], 'BYLEX', 'LIMIT', 0, ARGV[3])
        end
        return redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX', 'REV', 'LIMIT', 0, ARGV[3])
        """;

    /// <summary>ARGV: delta. The new value, or nil (nothing stored) when the counter does not exist.</summary>
    public const string IncrementIfPresent = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        return redis.call('INCRBY', KEYS[1], ARGV[1])
        """;

    /// <summary>ARGV: delta, ttl in ms. Creates the counter at delta with the expiry; an existing one keeps its own.</summary>
    public const string IncrementWithTtl = """
        local created = redis.call('EXISTS', KEYS[1]) == 0
        local v = redis.call('INCRBY', KEYS[1], ARGV[1])
        if created then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return v
        """;

    /// <summary>
    /// ARGV: the stored value (<c>v</c>, the version in 20 digits, the payload), ttl in ms or 0. Writes unless the key
    /// holds a versioned value whose version is the same or newer.
    /// </summary>
    public const string SetIfNewer = """
        local cur = redis.call('GET', KEYS[1])
        if cur and string.sub(cur, 1, 1) == 'v' and string.sub(cur, 2, 21) >= string.sub(ARGV[1], 2, 21) then return 0 end
        if ARGV[2] ~= '0' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
        """;

    /// <summary>
    /// A fill: KEYS are the fill gate (<see cref="RedisFillGate"/>) and the keys to fill, ARGV the ttl in ms (0 for none)
    /// and their values. -1 (nothing written) when the gate is missing; otherwise each key is set where absent.
    /// </summary>
    public const string FillIfOpen = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
        local ttl = ARGV[1]
        for i = 2, #KEYS do
          if ttl ~= '0' then redis.call('SET', KEYS[i], ARGV[i], 'NX', 'PX', ttl) else redis.call('SET', KEYS[i], ARGV[i], 'NX') end
        end
        return #KEYS - 1
        """;
}
