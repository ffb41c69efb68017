namespace Lenta.Server.Feed;

/// <summary>Where fan-out time goes: from the post's creation to its last timeline push (benchmarks read it).</summary>
public sealed class FanOutMetrics
{
    private readonly Lock _gate = new();
    private readonly List<FanOutSample> _recent = [];

    public sealed record FanOutSample(long StatusId, int Followers, int Pushed, double MillisecondsFromPost, double MillisecondsWorking, bool Pulled);

    public void Record(FanOutSample sample)
    {
        lock (_gate)
        {
            _recent.Add(sample);
            if (_recent.Count > 10_000)
                _recent.RemoveRange(0, 5_000);
        }
    }

    public IReadOnlyList<FanOutSample> Recent()
    {
        lock (_gate)
            return _recent.ToList();
    }
}
