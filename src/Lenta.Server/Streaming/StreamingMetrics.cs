namespace Lenta.Server.Streaming;

/// <summary>This process's streaming figures (<c>/_diag/streaming</c>): open connections, deliveries, drops, and the lag
/// from a cause's commit to its frame being written to a socket.</summary>
public sealed class StreamingMetrics
{
    private readonly Lock _gate = new();
    private readonly double[] _lags = new double[4096];
    private long _lagCount;
    private int _sockets;
    private int _eventStreams;
    private long _delivered;
    private long _dropped;

    public int OpenSockets => Volatile.Read(ref _sockets);

    public int OpenEventStreams => Volatile.Read(ref _eventStreams);

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Opened(bool socket) => Interlocked.Increment(ref socket ? ref _sockets : ref _eventStreams);

    public void Closed(bool socket) => Interlocked.Decrement(ref socket ? ref _sockets : ref _eventStreams);

    public void Drop() => Interlocked.Increment(ref _dropped);

    public void Delivery(double lagMs)
    {
        Interlocked.Increment(ref _delivered);
        lock (_gate)
            _lags[_lagCount++ % _lags.Length] = lagMs;
    }

    /// <summary>Percentiles of the latest deliveries' lag, in milliseconds (0 when nothing was delivered).</summary>
    public (double P50, double P99, double Max, long Samples) Lag()
    {
        double[] copy;
        lock (_gate)
            copy = _lags.AsSpan(0, (int)Math.Min(_lagCount, _lags.Length)).ToArray();
        if (copy.Length == 0)
            return (0, 0, 0, 0);
        Array.Sort(copy);
        return (copy[copy.Length / 2], copy[Math.Min(copy.Length - 1, (int)(copy.Length * 0.99))], copy[^1], copy.Length);
    }
}
