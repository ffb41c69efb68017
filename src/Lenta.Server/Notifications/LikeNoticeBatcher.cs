using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Lenta.Server.Likes;

namespace Lenta.Server.Notifications;

/// <summary>
/// The quick path of a like's notification. The process that commits a like hands it to <see cref="LikeNoticeQueue"/>
/// after the commit (in memory, no write in the request); this loop writes the notifications of what gathered, at most one
/// round of writes per <see cref="Gather"/> (a like after a quiet spell is told at once, likes under load wait for the
/// round's turn and go together), <see cref="NotificationObserver.LikesPerJob"/> likes per transaction, so the author hears
/// of a like within a fraction of a second instead of after the write-behind's fold (about a second) and a job. The fold
/// stays the durable path: it writes a job for each like it takes up that this process has not told
/// (<see cref="LikeNoticeQueue.TakeTold"/>) — after a crash, a failed write, a full queue, or a like committed on another
/// node — and the job, like this, writes a row only for a like still standing and only once per cause.
/// </summary>
public sealed class LikeNoticeBatcher(LikeNoticeQueue queue, LikesNoticeHandler notices, ILogger<LikeNoticeBatcher> log) : BackgroundService
{
    /// <summary>The least time between two rounds of writes: under load, a round per tenth of a second.</summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<FoldedLike>();
        long? lastRound = null;
        try
        {
            while (await queue.Pending.WaitToReadAsync(stoppingToken))
            {
                if (lastRound is { } last && Stopwatch.GetElapsedTime(last) is var since && since < Gather)
                    await Task.Delay(Gather - since, stoppingToken);
                lastRound = Stopwatch.GetTimestamp();
                batch.Clear();
                while (batch.Count < LikeNoticeQueue.Capacity && queue.Pending.TryRead(out var like))
                    batch.Add(like);
                foreach (var chunk in batch.Chunk(NotificationObserver.LikesPerJob))
                    await TellAsync(chunk, stoppingToken);
                queue.Forget();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // What waits here is left to the fold.
        }
    }

    private async Task TellAsync(FoldedLike[] likes, CancellationToken ct)
    {
        try
        {
            await notices.TellAsync(likes.Select(l => new LikeNotice(l.AccountId, l.StatusId, l.CreatedAt)).ToList(), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            log.LogWarning(e, "Telling {Count} likes failed; the write-behind's fold tells them", likes.Length);
            return;
        }
        queue.Told(likes);
    }
}

/// <summary>
/// Likes committed in this process and not yet told (<see cref="LikeNoticeBatcher"/> takes them), and those told lately,
/// for the fold to skip. No dependencies: the like's observer hands likes here without waiting for anything.
/// </summary>
public sealed class LikeNoticeQueue(TimeProvider time)
{
    /// <summary>Likes that may wait; past that they are left to the fold.</summary>
    public const int Capacity = 65_536;

    /// <summary>
    /// How long a told like is remembered for the fold to skip it (the fold comes about a second after a like, later only
    /// behind a backlog); one not seen by then — unliked, folded on another node — is forgotten, and at worst its job
    /// writes nothing.
    /// </summary>
    private static readonly TimeSpan Remember = TimeSpan.FromSeconds(10);

    private readonly Channel<FoldedLike> _pending = Channel.CreateBounded<FoldedLike>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private readonly ConcurrentDictionary<long, byte> _told = new();
    private readonly ConcurrentQueue<(long Id, long At)> _toldOrder = new();

    public ChannelReader<FoldedLike> Pending => _pending.Reader;

    /// <summary>Hands over a committed like; never waits (a full queue leaves it to the fold).</summary>
    public void Offer(FoldedLike like) => _pending.Writer.TryWrite(like);

    /// <summary>Whether this process told <paramref name="likeId"/> already; forgets it either way (the fold asks once).</summary>
    public bool TakeTold(long likeId) => _told.TryRemove(likeId, out _);

    /// <summary>Remembers likes whose notifications committed.</summary>
    public void Told(IEnumerable<FoldedLike> likes)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var like in likes)
        {
            if (_told.TryAdd(like.Id, 0))
                _toldOrder.Enqueue((like.Id, now));
        }
    }

    /// <summary>Forgets told likes older than <see cref="Remember"/>.</summary>
    public void Forget()
    {
        var before = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)Remember.TotalMilliseconds;
        while (_toldOrder.TryPeek(out var oldest) && oldest.At < before && _toldOrder.TryDequeue(out oldest))
            _told.TryRemove(oldest.Id, out _);
    }
}
