namespace Lenta.Server.Platform.Cache;

/// <summary>
/// Starts a background gen2 collection once the cache has let go of a quarter of its budget (evicted, replaced,
/// removed; estimated bytes) since the last one. A cached value lives long enough to reach gen2, so what the cache
/// drops is gen2 garbage; but the GC sizes gen2's allocation budget by how much of gen2 survives, which for a cache
/// is nearly all of it, so on its own it let gen2 grow to twice the live data between collections (the Reed98 mix:
/// 71 MB live, 163 MB before the next one) — resident memory holding posts the cache had dropped. A background
/// collection marks beside the requests (two pauses of ~1 ms) and turns that space into free lists the next
/// promotions fill, so gen2 grows far less. A small cache's drops wait for <see cref="Floor"/> at least.
/// </summary>
internal sealed class GarbageMeter(long threshold, Action collect)
{
    public const long Floor = 16L * 1024 * 1024;

    private long _dropped;
    private int _queued;

    /// <param name="collect">what starts a collection; a background gen2 of the GC's unless a test observes it</param>
    public static GarbageMeter For(long maxBytes, Action? collect = null) => new(Math.Max(maxBytes / 4, Floor), collect ?? new Gen2().Collect);

    public void Dropped(long bytes)
    {
        if (Interlocked.Add(ref _dropped, bytes) < threshold || Interlocked.Exchange(ref _queued, 1) == 1)
            return;
        // Off the shard's lock and the writer's way: a collection starts with a (short) suspension of every thread.
        ThreadPool.UnsafeQueueUserWorkItem(static meter => meter.Run(), this, preferLocal: false);
    }

    private void Run()
    {
        Interlocked.Exchange(ref _dropped, 0);
        collect();
        Volatile.Write(ref _queued, 0);
    }

    private sealed class Gen2
    {
        private int _seen = GC.CollectionCount(2);

        public void Collect()
        {
            // A gen2 of the GC's own since the last one started here already took what was dropped before it. Where
            // concurrent GC is off (latency mode Batch) a forced gen2 would block every thread: the GC's own budget rules.
            if (GC.CollectionCount(2) == _seen && System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch)
                GC.Collect(2, GCCollectionMode.Forced, blocking: false);
            _seen = GC.CollectionCount(2);
        }
    }
}
