namespace Lenta.Server.Platform.Cache;

/// <summary><c>Lenta__Cache__*</c>: the memory caches.</summary>
public sealed class CacheOptions
{
    public const string Section = "Lenta:Cache";

    /// <summary><c>memory</c>: in-process, bounded by <see cref="MaxBytes"/> with least-recently-used eviction.</summary>
    public string Provider { get; set; } = "memory";

    /// <summary>Byte budget of the in-process cache (keys, values and bookkeeping, estimated).</summary>
    public long MaxBytes { get; set; } = 128L * 1024 * 1024;
}
