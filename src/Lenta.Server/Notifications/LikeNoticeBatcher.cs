using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Lenta.Server.Likes;
using Lenta.Server.Posts;

namespace Lenta.Server.Notifications;

/// <summary>
/// The quick path of a like's notification. The process that commits a like hands it to <see cref="LikeNoticeQueue"/>
/// after the commit (in memory, no write in the request); this loop writes the notifications of what gathered, at most one
/// round of writes per <see cref="Gather"/> (a like after a quiet spell is told at once, likes under load wait for the
/// round's turn and go together), so the author hears of a like within a fraction of a second instead of after the
/// write-behind's fold (about a second) and a job. A round's likes are written in their authors' order,
/// <see cref="PerWrite"/> per transaction: each like's notification goes into three B-trees keyed by its recipient, so
/// what shares a page in them shares the page's write (the like path's commits are mostly these pages). Under load
/// (a round of <see cref="Loaded"/> likes or more) the next round waits <see cref="GatherUnderLoad"/> instead, so more
/// likes of each author go into one write. The fold stays the durable path: it writes a job for each like it takes up that
/// this process has not told (<see cref="LikeNoticeQueue.TakeTold"/>) — after a crash, a failed write, a full queue, or a
/// like committed on another node — and the job, like this, writes a row only for a like still standing and only once
/// per cause.
/// </summary>
public sealed class LikeNoticeBatcher(LikeNoticeQueue queue, LikesNoticeHandler notices, PostService posts, ILogger<LikeNoticeBatcher> log) : BackgroundService
{
    /// <summary>The least time between two rounds of writes after a small round.</summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(100);

    /// <summary>The least time between two rounds after a round of <see cref="Loaded"/> likes or more.</summary>
    private static readonly TimeSpan GatherUnderLoad = TimeSpan.FromMilliseconds(500);

    private const int Loaded = 256;

    /// <summary>Likes per transaction: a write holds SQLite's one writer ~7 ms.</summary>
    public const int PerWrite = 300;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<FoldedLike>();
        long? lastRound = null;
        var wait = Gather;
        try
        {
            while (await queue.Pending.WaitToReadAsync(stoppingToken))
            {
                if (lastRound is { } last && Stopwatch.GetElapsedTime(last) is var since && since < wait)
                    await Task.Delay(wait - since, stoppingToken);
                lastRound = Stopwatch.GetTimestamp();
                batch.Clear();
                while (batch.Count < LikeNoticeQueue.Capacity && queue.Pending.TryRead(out var like))
                    batch.Add(like);
                wait = batch.Count >= Loaded ? GatherUnderLoad : Gather;
                await InAuthorsOrderAsync(batch, stoppingToken);
                foreach (var chunk in batch.Chunk(PerWrite))
                    await TellAsync(chunk, stoppingToken);
                queue.Forget();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // What waits here is left to the fold.
        }
    }

    /// <summary>Sorts the likes by their posts' authors (the recipients), then by id; a post not found sorts first (told nothing).</summary>
    private async Task InAuthorsOrderAsync(List<FoldedLike> likes, CancellationToken ct)
    {
        if (likes.Count <= 1)
            return;
        var found = await posts.Cache.GetManyAsync(likes.Select(l => l.StatusId).Distinct().ToList(), ct);
        likes.Sort((a, b) =>
        {
            var byAuthor = (found.TryGetValue(a.StatusId, out var pa) ? pa.AccountId : 0).CompareTo(found.TryGetValue(b.StatusId, out var pb) ? pb.AccountId : 0);
            return byAuthor != 0 ? byAuthor : a.Id.CompareTo(b.Id);
        });
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
