namespace Lenta.Server.Platform.Cache;

/// <summary><c>Lenta__Cache__*</c>: the memory caches.</summary>
public sealed class CacheOptions
{
    public const string Section = "Lenta:Cache";

    /// <summary>
    /// <c>memory</c>: in-process, bounded by <see cref="MaxBytes"/> with least-recently-used eviction (one process only).
    /// <c>redis</c>: a Redis server or Redis Cluster at <see cref="ConnectionString"/>, shared by every process.
    /// </summary>
    public string Provider { get; set; } = "memory";

    /// <summary>Byte budget of the in-process cache (keys, values and bookkeeping, estimated).</summary>
    public long MaxBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>For <c>redis</c>: a StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c> or a cluster's nodes.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>For <c>redis</c>: prepended to every key, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "lenta:";

    /// <summary>For <c>redis</c>: how long one cache call may take before it counts as a miss (reads) or a dropped write.</summary>
    public int TimeoutMs { get; set; } = 1000;
}
