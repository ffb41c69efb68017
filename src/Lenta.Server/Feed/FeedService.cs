using System.Collections.Concurrent;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Posts;
using Lenta.Server.Tags;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Feed;

/// <summary>
/// The Feed service and its Publication Memory Cache: each reader's home timeline is a capped sorted set of
/// post ids, <c>tl:{account}</c>, filled by fan-out on write and rebuilt from the database when missing.
/// Posts of accounts over the fan-out threshold ("pull accounts") are never pushed; they are merged in
/// at read time. The database (follows, statuses) is the truth; every timeline can be lost and rebuilt.
/// </summary>
public sealed class FeedService(ICache cache, IDatabase db, GraphService graph, PostService posts, PostBoosts boosts, ProfileCache profiles, TaggedPosts tagged, TagsService tags,
    IOptions<FeedOptions> options, TimeProvider time, ILogger<FeedService> log)
{
    private static readonly TimeSpan ActivityEvery = TimeSpan.FromHours(1);
    private static readonly byte[] ActiveMark = [1];
    private static readonly TimeSpan PullRefresh = TimeSpan.FromSeconds(30);
    private readonly FeedOptions _options = options.Value;
    private readonly ConcurrentDictionary<long, Lazy<Task>> _rebuilding = new();
    private (DateTimeOffset At, HashSet<long> Ids)? _pull;
    private long _rebuilds;

    public FeedOptions Options => _options;

    /// <summary>How many timelines this process rebuilt (tests, metrics).</summary>
    public long Rebuilds => Interlocked.Read(ref _rebuilds);

    public static string Key(long accountId) => "tl:" + accountId;

    /// <summary>A page of <paramref name="me"/>'s home feed: the cached ids, plus the pull accounts' posts, visible only.</summary>
    /// <param name="originalsRead">when given, takes the originals of the page's boosts, read from the post cache on the way</param>
    public async Task<List<PostCore>> HomeAsync(long me, Page page, CancellationToken ct, Dictionary<long, PostCore>? originalsRead = null)
    {
        // The activity mark is written beside the timeline's read (one round trip's wait on Redis); a returning reader's
        // stale timeline is dropped by it before the rebuild below reads the timeline again.
        var touched = TouchActivityAsync(me, ct);
        var (lower, ascending) = page.LowerBound;
        var range = new SortedRange(page.MaxId, lower, page.Limit, ascending);
        var ids = await cache.SortedRangeAsync(Key(me), range, ct);
        if (await touched)
            ids = await cache.SortedRangeAsync(Key(me), range, ct);
        if (ids is null)
        {
            var rebuilt = await RebuildAsync(me, ct);
            ids = await cache.SortedRangeAsync(Key(me), range, ct) ?? Slice(rebuilt, range); // evicted at once under a tiny budget: use what was built
        }

        var pull = await PullAccountsAsync(ct);
        if (pull.Count > 0)
        {
            var followedPull = await graph.FollowedAmongAsync(me, pull, ct);
            if (followedPull.Count > 0)
            {
                var pulled = await PulledAsync(followedPull, page.MaxId, lower, page.Limit, ascending, ct);
                var merged = ids.Concat(pulled).Distinct();
                ids = (ascending ? merged.Order() : merged.OrderDescending()).Take(page.Limit).ToArray();
            }
        }
        if (ascending)
            Array.Reverse(ids);
        originalsRead ??= [];
        return await OnePerOriginalAsync(me, await posts.FilterVisibleAsync(await posts.Cache.GetOrderedAsync(ids, ct), me, ct, originalsRead), originalsRead, ct);
    }

    /// <summary>
    /// One entry per original in a home timeline: a boost is left out when the timeline holds an earlier entry for its
    /// original — the original itself (its author is the reader or followed by them) or an older boost of it by the reader
    /// or an account they follow. So a post boosted by three followed accounts shows once, as its first boost, and a
    /// followed account's post never shows again as a boost. Decided at read time from the database, so a rebuilt
    /// timeline reads the same; nothing is read for a page without boosts, and no earlier boost for an original boosted once.
    /// </summary>
    private async Task<List<PostCore>> OnePerOriginalAsync(long me, List<PostCore> cores, Dictionary<long, PostCore> originalsRead, CancellationToken ct)
    {
        List<PostCore>? shared = null;
        foreach (var c in cores)
        {
            if (c.ReblogOfId is not null)
                (shared ??= []).Add(c);
        }
        if (shared is null)
            return cores;
        // Only an original boosted more than once can have a boost earlier than the page's (its count, from the post cache,
        // moves in the boost's own transaction): most boosted posts spare the query.
        var originals = await posts.Cache.GetManyAsync(shared.Select(b => b.ReblogOfId!.Value).Distinct().ToList(), originalsRead, ct);
        var boostedAgain = originals.Values.Where(o => o.ReblogsCount > 1).Select(o => o.Id).ToHashSet();
        var earlier = await boosts.EarlierBoostsAsync(boostedAgain, shared.Max(b => b.Id), ct);
        var accounts = shared.Select(b => b.ReblogOfAccountId ?? 0).Concat(earlier.Select(e => e.Booster)).Where(a => a != me).ToHashSet();
        HashSet<long> followed = accounts.Count == 0 ? [] : await graph.FollowedAmongAsync(me, accounts, ct);
        bool InHome(long account) => account == me || followed.Contains(account);
        return cores.FindAll(c => c.ReblogOfId is not { } original
            || !(InHome(c.ReblogOfAccountId ?? 0) || earlier.Any(e => e.Original == original && e.Id < c.Id && InHome(e.Booster))));
    }

    /// <summary>How many followed pull accounts a home page merges from their cached profile ids; past it, one query does.</summary>
    private const int MaxCachedPulls = 32;

    /// <summary>
    /// The followed pull accounts' posts for a page of the home feed. Paging down (no lower bound), each account's newest ids
    /// below the cursor come from its profile's cached ids (<see cref="ProfileCache"/>: the same posts, public, unlisted
    /// and private, that fan-out would have pushed), merged here: no query for the page of a reader who follows a few
    /// large accounts, the common read on a power-law graph. The database answers the rest (a lower bound, many such
    /// accounts, or a profile whose cached ids cannot answer).
    /// </summary>
    private async Task<List<long>> PulledAsync(HashSet<long> authors, long? maxExclusive, long? lower, int limit, bool ascending, CancellationToken ct)
    {
        if (!ascending && lower is null && authors.Count <= MaxCachedPulls)
        {
            var ranges = await Task.WhenAll(authors.Select(a => profiles.RangeAsync(a, maxExclusive, limit, ct)));
            if (ranges.All(r => r is not null))
                return ranges.SelectMany(r => r!.Value.Ids).OrderDescending().Take(limit).ToList();
        }
        return await posts.RecentForFollowersAsync(authors, maxExclusive, lower, limit, ascending, ct);
    }

    private static long[] Slice(List<long> newestFirst, SortedRange r)
    {
        var window = newestFirst.Where(id => (r.MaxExclusive is null || id < r.MaxExclusive) && (r.MinExclusive is null || id > r.MinExclusive));
        return (r.Ascending ? window.Order() : window).Take(r.Limit).ToArray();
    }

    /// <summary>How long after its id was taken a post may still commit, as a rebuild counts it (see <see cref="RebuildOnceAsync"/>).</summary>
    private static readonly TimeSpan LateCommit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Rebuilds a missing timeline from the database with what fan-out would have pushed: the newest posts of
    /// the accounts followed (pull accounts excepted) and one's own, the direct posts that mention one, and the newest public posts of the tags followed. Concurrent readers of one timeline share one
    /// rebuild in this process, and a cache lock keeps other nodes from rebuilding it at the same moment.
    /// </summary>
    public async Task<List<long>> RebuildAsync(long me, CancellationToken ct)
    {
        List<long>? result = null;
        var lazy = _rebuilding.GetOrAdd(me, key => new Lazy<Task>(async () =>
        {
            try
            {
                result = await RebuildOnceAsync(me, CancellationToken.None);
            }
            finally
            {
                _rebuilding.TryRemove(me, out _);
            }
        }));
        await lazy.Value.WaitAsync(ct);
        return result ?? (await cache.SortedRangeAsync(Key(me), new SortedRange(null, null, _options.TimelineSize), ct))?.ToList() ?? await ComputeAsync(me, ct);
    }

    private async Task<List<long>> RebuildOnceAsync(long me, CancellationToken ct)
    {
        // A reader that saw the timeline missing just before another rebuild finished finds it here and is done.
        if (await cache.SortedRangeAsync(Key(me), new SortedRange(null, null, _options.TimelineSize), ct) is { } existing)
            return existing.ToList();
        var lockKey = "tl-lock:" + me;
        if (!await cache.AddAsync(lockKey, new byte[] { 1 }, TimeSpan.FromSeconds(10), ct))
        {
            // Another node is rebuilding it: wait a moment for its result.
            for (var i = 0; i < 40; i++)
            {
                await Task.Delay(50, ct);
                if (await cache.SortedRangeAsync(Key(me), new SortedRange(null, null, _options.TimelineSize), ct) is { } done)
                    return done.ToList();
            }
        }
        try
        {
            Interlocked.Increment(ref _rebuilds);
            var started = time.GetUtcNow();
            var authors = await AuthorsAsync(me, ct);
            var followedTags = await tags.FollowedNamesAsync(me, _options.RebuildMaxFollowing, ct);
            var ids = await SourcesAsync(me, authors, followedTags, null, null, false, ct);
            await cache.SortedReplaceAsync(Key(me), ids.ToArray(), _options.TimelineSize, ct);
            // Posts committed while we read were pushed to a timeline that did not exist yet: add them now. Those newer
            // than the newest read, and those below it whose id was taken before the read began but which committed after
            // it (an id is taken before its post's transaction): any post whose id is at most LateCommit older than the
            // read (adding one already there changes nothing).
            var since = ids.Count > 0 ? ids[0] : 0;
            var late = await SourcesAsync(me, authors, followedTags, null, since, true, ct);
            var slow = ids.Count > 0 ? await SourcesAsync(me, authors, followedTags, since, IdGenerator.MinIdAt(started - LateCommit), false, ct) : [];
            if (late.Count > 0 || slow.Count > 0)
                await cache.SortedAddIfPresentAsync(Key(me), late.Concat(slow).ToArray(), _options.TimelineSize, ct);
            log.LogDebug("Rebuilt home timeline of {Account} with {Count} posts", me, ids.Count + late.Count);
            return late.AsEnumerable().Reverse().Concat(ids.Union(slow).OrderDescending()).ToList();
        }
        finally
        {
            await cache.RemoveAsync(lockKey, ct);
        }
    }

    /// <summary>The timeline a rebuild would produce, without touching the cache (tests compare against it).</summary>
    public async Task<List<long>> ComputeAsync(long me, CancellationToken ct) =>
        await SourcesAsync(me, await AuthorsAsync(me, ct), await tags.FollowedNamesAsync(me, _options.RebuildMaxFollowing, ct), null, null, false, ct);

    /// <summary>
    /// What fan-out would have pushed to <paramref name="me"/>, newest (or, <paramref name="ascending"/>, the first above
    /// <paramref name="minExclusive"/>) first: the followed authors' posts, the direct posts they wrote or are mentioned
    /// in, and the followed tags' public posts, each once.
    /// </summary>
    private async Task<List<long>> SourcesAsync(long me, List<long> authors, List<string> followedTags, long? maxExclusive, long? minExclusive, bool ascending, CancellationToken ct)
    {
        var limit = _options.TimelineSize;
        var followed = await posts.RecentForFollowersAsync(authors, maxExclusive, minExclusive, limit, ascending, ct);
        var direct = await posts.RecentDirectAsync(me, maxExclusive, minExclusive, limit, ascending, ct);
        var fromTags = followedTags.Count == 0 ? [] : await tagged.RecentPublicAsync(followedTags, maxExclusive, minExclusive, limit, ascending, ct);
        if (direct.Count == 0 && fromTags.Count == 0)
            return followed;
        var merged = followed.Concat(direct).Concat(fromTags).Distinct();
        return (ascending ? merged.Order() : merged.OrderDescending()).Take(limit).ToList();
    }

    private async Task<List<long>> AuthorsAsync(long me, CancellationToken ct)
    {
        var pull = await PullAccountsAsync(ct);
        var following = await graph.FollowingIdsAsync(me, _options.RebuildMaxFollowing, ct);
        return following.Where(a => !pull.Contains(a)).Append(me).Distinct().ToList();
    }

    /// <summary>
    /// Records that <paramref name="me"/> reads their feed (at most once an hour in the database), so fan-out keeps
    /// pushing to them. Someone back after <see cref="FeedOptions.InactiveDays"/> was skipped by fan-out meanwhile:
    /// their cached timeline, if any survived, is dropped and rebuilt.
    /// </summary>
    /// <returns>whether it dropped the reader's cached timeline (a returning reader's)</returns>
    private async Task<bool> TouchActivityAsync(long me, CancellationToken ct)
    {
        if (!await cache.AddAsync(ActivePrefix + me, ActiveMark, ActivityEvery, ct))
            return false;
        var now = time.GetUtcNow();
        var last = await db.ReadAsync(c => c.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT last_read_at FROM feed_activity WHERE account_id = @me", new { me }, cancellationToken: ct)), ct);
        // Only a returning reader's timeline can be stale. A first-time reader has none that fan-out fed, and one a
        // concurrent first read just rebuilt is complete: dropping it would only cost a second rebuild.
        var returning = last is { } previous && previous < now.AddDays(-_options.InactiveDays).ToUnixTimeMilliseconds();
        if (returning)
            await cache.RemoveAsync(Key(me), ct);
        await db.WriteAsync(w => w.ExecuteAsync("""
            INSERT INTO feed_activity (account_id, last_read_at) VALUES (@me, @now)
            ON CONFLICT (account_id) DO UPDATE SET last_read_at = excluded.last_read_at
            """, new { me, now = now.ToUnixTimeMilliseconds() }), ct);
        return returning;
    }

    /// <summary>
    /// Which of <paramref name="accounts"/> read their feed within <see cref="FeedOptions.InactiveDays"/>. Whoever read it
    /// within the last hour still has the mark <see cref="TouchActivityAsync"/> cached (<c>active:{id}</c>) and is active
    /// without a query (the window is at least a day); the database answers for the rest. A fan-out to readers who read
    /// lately — most of a post's followers on a busy server — reads no row.
    /// </summary>
    public async Task<List<long>> ActiveAmongAsync(IReadOnlyList<long> accounts, CancellationToken ct)
    {
        var marks = await cache.GetManyDecodedAsync(ActivePrefix, accounts, static _ => Marked, ct);
        var active = new List<long>(accounts.Count);
        List<long>? unknown = null;
        for (var i = 0; i < accounts.Count; i++)
        {
            if (marks[i] is null)
                (unknown ??= []).Add(accounts[i]);
            else
                active.Add(accounts[i]);
        }
        if (unknown is null)
            return active;
        var cutoff = time.GetUtcNow().AddDays(-_options.InactiveDays).ToUnixTimeMilliseconds();
        active.AddRange(await db.ReadAsync(async c => await c.QueryAsync<long>(new CommandDefinition(
            $"SELECT account_id FROM feed_activity WHERE account_id {Sql.In(db.Provider, "@unknown")} AND last_read_at >= @cutoff",
            new { unknown = Sql.List(db.Provider, unknown), cutoff }, cancellationToken: ct)), ct));
        return active;
    }

    private const string ActivePrefix = "active:";

    /// <summary>What an activity mark decodes to: only its presence counts.</summary>
    private static readonly object Marked = new();

    /// <summary>Accounts over the fan-out threshold, read from the database at most every 30 s.</summary>
    public async Task<HashSet<long>> PullAccountsAsync(CancellationToken ct)
    {
        if (_pull is { } p && time.GetUtcNow() - p.At < PullRefresh)
            return p.Ids;
        var ids = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition("SELECT account_id FROM feed_pull_accounts", cancellationToken: ct)), ct)).ToHashSet();
        _pull = (time.GetUtcNow(), ids);
        return ids;
    }

    public async Task MarkPullAsync(long accountId, CancellationToken ct)
    {
        await db.WriteAsync(w => w.ExecuteAsync("INSERT INTO feed_pull_accounts (account_id, since) VALUES (@accountId, @now) ON CONFLICT (account_id) DO NOTHING",
            new { accountId, now = time.GetUtcNow().ToUnixTimeMilliseconds() }), ct);
        _pull = null;
    }
}
