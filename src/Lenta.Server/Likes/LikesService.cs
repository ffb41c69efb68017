using System.Globalization;
using System.Text;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Posts;

namespace Lenta.Server.Likes;

/// <summary>
/// The Likes service and its Likes Memory Cache. A like is one row in <c>favourites</c> (unique per account and post,
/// so liking twice counts once), committed before it is acknowledged: in the one writer's group commit on SQLite (many
/// likes per fsync), with the likes waiting at once in one statement and one commit on PostgreSQL (<c>_likeBatch</c>). It is written with <c>folded = 0</c>: the orders the lists read (<c>favourites_by_status</c>, a post's
/// likers; <c>favourites_by_account</c>, an account's likes) and the stored counts (<c>favourite_counts</c>) are
/// written behind it by <see cref="LikeWriteBehind"/>, thousands of likes per fold, which sets <c>folded = 1</c> (on
/// SQLite in short steps, each its own transaction, see <see cref="FoldStepAsync"/>). So a like dirties the pair index's page and the table's last pages, not a random page of
/// three more B-trees, and a fold shares those pages among its likes. Every read adds the unfolded rows (a small
/// partial index in id order) to the folded data in one statement, so it sees each like exactly once whether or not it
/// was folded yet. Unliking a folded like takes it out of all three tables and its count in its own transaction.
/// The cache holds each post's count (<c>lc:{post}</c>, moved by every acknowledged change) and each viewer's flag
/// (<c>fv:{viewer}:{post}</c>); a miss is filled from the database as stored count plus unfolded likes, so cache,
/// table and stored count always tell the same number.
/// </summary>
public sealed class LikesService(IDatabase db, ICache cache, IdGenerator ids, TimeProvider time, PostService posts, IEnumerable<ILikeObserver> observers) : IStatusViewerFacts
{
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private static readonly TimeSpan ChangedFor = TimeSpan.FromSeconds(10);

    /// <summary>A like or unlike committed in this process (wakes <see cref="LikeWriteBehind"/>).</summary>
    public event Action? LikesWritten;

    private const string CountPrefix = "lc:";

    private static string CountKey(long statusId) => CountPrefix + statusId;

    /// <summary>Each viewer's flag of a post they may have liked, <c>fv:{viewer}:{post}</c>.</summary>
    private static readonly ViewerFlags Flags = new("fv:");

    /// <summary>
    /// When the post's last like or unlike moved its cached count (UTC ticks, kept for a while), written right after the
    /// move: a fill whose database read began before then sees it and drops what it cached (see <see cref="FillCountsAsync"/>).
    /// </summary>
    private static string CountChangedKey(long statusId) => "lcx:" + statusId;

    /// <summary>
    /// How many likes or unlikes of the post are in flight: counted up before their transaction, down once their cached
    /// count has moved and been stamped. A fill that finds any drops what it cached (see <see cref="FillCountsAsync"/>).
    /// </summary>
    private const string InFlightPrefix = "lcp:";

    private static readonly TimeSpan InFlightFor = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Slack for clocks of different nodes comparing change times, with a distributed cache; none in one process (one
    /// clock), where a slack would drop the fill that follows every like (its own answer's).
    /// </summary>
    private static long ClockSlack(ICache cache) => cache.SharedAcrossProcesses ? TimeSpan.FromMilliseconds(50).Ticks : 0;

    /// <summary>
    /// Likes (or, with <paramref name="like"/> false, unlikes) a post the caller can see; idempotent. 404 when invisible.
    /// A boost's id likes the post it shares, as Mastodon's <c>Favourite</c> does; the answer is then the boost.
    /// </summary>
    public async Task<PostCore> SetAsync(long me, long statusId, bool like, CancellationToken ct)
    {
        var (asked, post) = await posts.GetActionTargetAsync(statusId, me, ct) ?? throw new ApiException(404, "Record not found");
        statusId = post.Id;
        await cache.IncrementAsync(InFlightPrefix + statusId, 1, InFlightFor, ct);
        try
        {
            var changed = await ChangeAsync(me, post, like, ct);
            return ReferenceEquals(post, asked) ? changed : asked;
        }
        finally
        {
            await cache.IncrementAsync(InFlightPrefix + statusId, -1, InFlightFor, CancellationToken.None);
        }
    }

    private async Task<PostCore> ChangeAsync(long me, PostCore post, bool like, CancellationToken ct)
    {
        var statusId = post.Id;
        FoldedLike? liked = null;
        if (like && db.Provider == DbProvider.Postgres)
        {
            // Many requests' likes in one statement and one commit (see _likeBatch); each answered after that commit.
            var one = new FoldedLike { Id = ids.Next(), AccountId = me, StatusId = statusId, CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds() };
            return await _likeBatch.Value.WriteAsync(one) ? await AfterChangeAsync(me, post, like: true, one) : post;
        }
        var changed = await db.WriteAsync(async w =>
        {
            if (like)
            {
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                var row = await w.QuerySingleOrDefaultAsync<long?>("""
                    INSERT INTO favourites (id, account_id, status_id, created_at, folded) VALUES (@id, @me, @statusId, @now, 0)
                    ON CONFLICT (account_id, status_id) DO NOTHING RETURNING id
                    """, new { id = ids.Next(), me, statusId, now });
                if (row is null)
                    return false;
                liked = new FoldedLike { Id = row.Value, AccountId = me, StatusId = statusId, CreatedAt = now };
            }
            else
            {
                var gone = await w.QuerySingleOrDefaultAsync<(long Id, long Folded)>(
                    "DELETE FROM favourites WHERE account_id = @me AND status_id = @statusId RETURNING id, folded", new { me, statusId });
                if (gone.Id == 0)
                    return false;
                foreach (var observer in observers)
                    await observer.UnlikedAsync(w, me, post);
                // Folded already (on PostgreSQL a fold holding the row made this wait for its commit): take it out of
                // what the fold wrote. An unfolded like leaves nothing behind with its row. On SQLite a fold under way may
                // have written one of the two lists for it and not the other (see FoldAsync).
                var (byAccount, byStatus) = gone.Folded != 0 ? (true, true) : await FoldedSoFarAsync(w, gone.Id, me, statusId);
                if (byStatus)
                {
                    await w.ExecuteAsync("DELETE FROM favourites_by_status WHERE status_id = @statusId AND id = @id", new { statusId, id = gone.Id });
                    await w.ExecuteAsync("UPDATE favourite_counts SET favourites_count = favourites_count - 1 WHERE status_id = @statusId", new { statusId });
                }
                if (byAccount)
                    await w.ExecuteAsync("DELETE FROM favourites_by_account WHERE account_id = @me AND id = @id", new { me, id = gone.Id });
            }
            return true;
        }, ct);
        return changed ? await AfterChangeAsync(me, post, like, liked) : post;
    }

    private async Task<PostCore> AfterChangeAsync(long me, PostCore post, bool like, FoldedLike? liked)
    {
        var statusId = post.Id;
        // After the commit, before the caller hears back (and before the in-flight count goes down): the flag is
        // marked changed (not set) so a concurrent like/unlike of the same pair can never leave it wrong; the count
        // moves with the change, then is stamped (for fills racing this, see FillCountsAsync).
        await Flags.MarkChangedAsync(cache, me, statusId);
        await cache.IncrementIfPresentAsync(CountKey(statusId), like ? 1 : -1, CancellationToken.None);
        await cache.SetAsync(CountChangedKey(statusId), Encoding.ASCII.GetBytes(time.GetUtcNow().UtcTicks.ToString(CultureInfo.InvariantCulture)), ChangedFor, CancellationToken.None);
        LikesWritten?.Invoke();
        if (liked is not null)
        {
            foreach (var observer in observers)
                observer.LikeCommitted(liked);
        }
        return post;
    }

    /// <summary>
    /// PostgreSQL: the likes of requests waiting at once, written by one <c>INSERT … SELECT FROM unnest</c> (in the order of
    /// the pair index, so two batches sharing pairs wait for each other in one order and never deadlock), a like already
    /// there (liked twice, or twice in one batch) left as it is; each request learns from <c>RETURNING</c> whether its
    /// own row was written. One commit for the batch: a crash before it stores none of them and acknowledges none.
    /// </summary>
    private readonly Lazy<WriteBatcher<FoldedLike, bool>> _likeBatch = new(() => new(db, async (w, likes) =>
    {
        var written = (await w.QueryAsync<long>("""
            INSERT INTO favourites (id, account_id, status_id, created_at, folded)
            SELECT i, a, s, t, 0 FROM unnest(@ids, @accounts, @statuses, @times) AS r(i, a, s, t) ORDER BY a, s
            ON CONFLICT (account_id, status_id) DO NOTHING RETURNING id
            """, new
        {
            ids = likes.Select(l => l.Id).ToArray(),
            accounts = likes.Select(l => l.AccountId).ToArray(),
            statuses = likes.Select(l => l.StatusId).ToArray(),
            times = likes.Select(l => l.CreatedAt).ToArray(),
        })).ToHashSet();
        return likes.Select(l => written.Contains(l.Id)).ToList();
    }, maxBatch: 256, writers: 1));

    public async Task<(IReadOnlyDictionary<long, long> Counts, IReadOnlySet<long> Liked)> LikesAsync(IReadOnlyList<long> statusIds, long? viewer, CancellationToken ct)
    {
        var counts = new Dictionary<long, long>(statusIds.Count);
        var liked = new HashSet<long>();
        if (statusIds.Count == 0)
            return (counts, liked);

        var cached = await cache.GetCountersAsync(CountPrefix, statusIds, ct);
        List<long>? missing = null;
        for (var i = 0; i < statusIds.Count; i++)
        {
            if (cached[i] is { } n)
                counts[statusIds[i]] = n;
            else
                (missing ??= []).Add(statusIds[i]);
        }
        if (missing is not null)
        {
            var since = time.GetUtcNow().UtcTicks;
            var fresh = await StoredCountsAsync(missing, ct);
            foreach (var id in missing)
                counts[id] = fresh.GetValueOrDefault(id);
            await FillCountsAsync(cache, missing.Select(id => new KeyValuePair<long, long>(id, counts[id])).ToList(), since, ct);
        }

        if (viewer is { } me)
        {
            // Only posts someone likes can be liked by the viewer: a cached count of 0 is exact (see FillCountsAsync) —
            // a like acknowledged before this read began moved it, or was read with it — so those posts, most of a
            // feed, are not liked, without a flag or a query. A like in the last ChangedFor has its flag marked, set
            // before its count moved, so a post whose count shows it is looked at below and never missed.
            List<long>? likedByAnyone = null;
            foreach (var id in statusIds)
            {
                if (counts[id] != 0)
                    (likedByAnyone ??= []).Add(id);
            }
            if (likedByAnyone is null)
                return (counts, liked);
            liked = await Flags.ReadAsync(cache, me, likedByAnyone, unknown => db.ReadAsync(async c => (await c.QueryAsync<long>(new CommandDefinition(
                $"SELECT status_id FROM favourites WHERE account_id = @me AND status_id {Sql.In(db.Provider, "@unknown")}",
                new { me, unknown = Sql.List(db.Provider, unknown) }, cancellationToken: ct))).ToHashSet(), ct), ct);
        }
        return (counts, liked);
    }

    /// <summary>A post just created: zero likes, not liked by its author (see <see cref="LikesPostObserver"/>).</summary>
    public static async Task PrimeNewPostAsync(ICache cache, long statusId, long authorId, DateTimeOffset createdBeforeCommit)
    {
        await FillCountsAsync(cache, [new(statusId, 0)], createdBeforeCommit.UtcTicks, CancellationToken.None);
        await Flags.AddNoAsync(cache, authorId, statusId);
    }

    /// <summary>
    /// Caches counts read from the database from <paramref name="readSince"/> on (or known, for a new post) where none
    /// is cached, then drops any that a like or unlike may have raced. A change L counts itself in flight
    /// (<see cref="InFlightPrefix"/>) before its transaction, moves a cached count after its commit, stamps the post
    /// (<see cref="CountChangedKey"/>), and only then counts itself out. A fill whose add met L's move wrongly is one of
    /// two kinds: its read missed L but L's move came before the add (found nothing to move), or its read saw L but L's
    /// move came after the add (moved it a second time). Either way L's move came after this read began and after L's
    /// commit, so when this check runs L is either still in flight, or has stamped the post with a time after the
    /// move, newer than <paramref name="readSince"/>: the fill is dropped. So a cached count is exact — never short of
    /// an acknowledged like (the flag shortcut in <see cref="LikesAsync"/> relies on that) nor counting one twice; a
    /// post liked all the time keeps its cached count, since only fills overlapping a change are dropped.
    /// </summary>
    private static async Task FillCountsAsync(ICache cache, IReadOnlyList<KeyValuePair<long, long>> counts, long readSince, CancellationToken ct)
    {
        await cache.AddCountersAsync(counts.Select(c => new KeyValuePair<string, long>(CountKey(c.Key), c.Value)).ToList(), Keep, ct);
        var ids = counts.Select(c => c.Key).ToList();
        var marks = await cache.GetManyAsync(ids.ConvertAll(CountChangedKey), ct);
        var inFlight = await cache.GetCountersAsync(InFlightPrefix, ids, ct);
        for (var i = 0; i < counts.Count; i++)
        {
            var raced = inFlight[i] is { } n && n != 0
                || marks[i] is { } mark && (!long.TryParse(Encoding.ASCII.GetString(mark), NumberStyles.None, CultureInfo.InvariantCulture, out var changedAt) || changedAt >= readSince - ClockSlack(cache));
            if (raced)
                await cache.RemoveAsync(CountKey(counts[i].Key), ct);
        }
    }

    /// <summary>The stored count plus the likes not yet folded in: the true count, in one query (posts nobody liked are absent).</summary>
    public Task<Dictionary<long, long>> StoredCountsAsync(IReadOnlyList<long> statusIds, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<(long Id, long Count)>(new CommandDefinition($"""
            SELECT status_id, CAST(SUM(n) AS BIGINT) FROM (
                SELECT status_id, favourites_count AS n FROM favourite_counts WHERE status_id {Sql.In(db.Provider, "@ids")}
                UNION ALL
                SELECT status_id, COUNT(*) AS n FROM favourites WHERE folded = 0 AND {NotYetIn(db.Provider, "status")}status_id {Sql.In(db.Provider, "@ids")} GROUP BY status_id
            ) t GROUP BY status_id
            """, new { ids = Sql.List(db.Provider, statusIds) }, cancellationToken: ct))).ToDictionary(r => r.Id, r => r.Count), ct);

    /// <summary>
    /// On SQLite, the condition (ending in <c>AND </c>) that an unfolded like is not yet in <c>favourites_by_{list}</c>
    /// (for "status", nor in the counts): a fold under way writes the lists a range of accounts or posts at a time, each
    /// range in a transaction of its own, and marks its likes folded only at the end (see <see cref="FoldAsync"/>).
    /// Uncorrelated, so SQLite reads the one row of <c>likes_fold</c> once per statement, in the statement's snapshot.
    /// </summary>
    private static string NotYetIn(DbProvider provider, string list) => provider == DbProvider.Sqlite
        ? $"NOT (id <= (SELECT upto FROM likes_fold) AND {list}_id < (SELECT {list}_cursor FROM likes_fold)) AND "
        : "";

    /// <summary>Who liked a post, newest like first, paged by the like's id (Value = the liker).</summary>
    public Task<List<CursorRow>> LikersAsync(long statusId, Page page, CancellationToken ct) =>
        CursorQuery.PageAsync(db, [new CursorSource("favourites_by_status"), new CursorSource("favourites", "folded = 0 AND " + NotYetIn(db.Provider, "status"))],
            "status_id", "account_id", statusId, page, ct);

    /// <summary>What an account liked, newest like first, paged by the like's id (Value = the post).</summary>
    public Task<List<CursorRow>> LikedAsync(long accountId, Page page, CancellationToken ct) =>
        CursorQuery.PageAsync(db, [new CursorSource("favourites_by_account"), new CursorSource("favourites", "folded = 0 AND " + NotYetIn(db.Provider, "account"))],
            "account_id", "status_id", accountId, page, ct);

    /// <summary>
    /// Folds up to <paramref name="limit"/> of the oldest unfolded likes into the lists' tables and the stored counts and
    /// marks them folded; returns how many it marked. On PostgreSQL each like is folded in one transaction with its rows
    /// in both tables, its count and its flag, so a crash leaves it folded or not, never half; on SQLite in steps (first
    /// finishing a fold a crash cut short), each its own transaction, whose every state reads and unlikes see through
    /// <c>likes_fold</c> (<see cref="FoldStepAsync"/>). Rows are inserted in each table's order, so the pages a fold
    /// touches are written once for many likes. The observers hear the folded likes in the transaction that marks them
    /// folded (<see cref="ILikeObserver.LikesFoldedAsync"/>): a like reaches them once, after it committed, and never
    /// in its request.
    /// </summary>
    public async Task<int> FoldAsync(int limit, CancellationToken ct)
    {
        if (db.Provider == DbProvider.Postgres)
        {
            // In transactions of at most PostgresFoldStep likes: a like of a pair already liked (ON CONFLICT DO NOTHING)
            // waits for the commit of a fold that is rewriting that row, and the likes batched with it wait too.
            var folded = 0;
            while (folded < limit)
            {
                var step = Math.Min(PostgresFoldStep, limit - folded);
                var n = await FoldOnPostgresAsync(step, ct);
                folded += n;
                if (n < step)
                    break;
            }
            return folded;
        }

        // SQLite: in steps, each a short write of its own through the one writer, so requests' writes commit between them
        // instead of waiting behind one transaction of the whole fold (75–180 ms at the benchmark's rates).
        var taken = 0;
        while (true)
        {
            var (marked, done) = await FoldStepAsync(limit, FoldStep, ct);
            taken += marked;
            if (done)
                return taken;
        }
    }

    /// <summary>Likes a PostgreSQL fold writes per transaction (a fold of 8,192 held its rows ~100 ms under load).</summary>
    private const int PostgresFoldStep = 1_024;

    private Task<int> FoldOnPostgresAsync(int limit, CancellationToken ct) =>
        // Writers run concurrently here: one statement, one snapshot; the rows it takes stay locked until it commits
        // (an unlike of one waits, then sees it folded), and likes committing meanwhile wait for the next fold. The
        // advisory lock keeps two nodes' folds from deadlocking on count rows.
        db.WriteAsync(async w =>
        {
            if (!await w.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_xact_lock(@key)", new { key = FoldLockKey }))
                return 0;
            var folded = (await w.QueryAsync<FoldedLike>("""
                WITH f AS (
                    UPDATE favourites SET folded = 1
                    WHERE id IN (SELECT id FROM favourites WHERE folded = 0 ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED)
                    RETURNING id, account_id, status_id, created_at),
                s AS (INSERT INTO favourites_by_status (status_id, id, account_id) SELECT status_id, id, account_id FROM f),
                a AS (INSERT INTO favourites_by_account (account_id, id, status_id) SELECT account_id, id, status_id FROM f),
                c AS (INSERT INTO favourite_counts (status_id, favourites_count) SELECT status_id, COUNT(*) FROM f GROUP BY status_id
                      ON CONFLICT (status_id) DO UPDATE SET favourites_count = favourite_counts.favourites_count + excluded.favourites_count)
                SELECT id AS Id, account_id AS AccountId, status_id AS StatusId, created_at AS CreatedAt FROM f ORDER BY id
                """, new { limit })).ToList();
            await ReportFoldedAsync(w, folded);
            return folded.Count;
        }, ct);

    /// <summary>Likes a SQLite fold step writes at most (~100 accounts' or ~1/8 of the posts' pages of a second's fold).</summary>
    private const int FoldStep = 1_024;

    private const long AllDone = long.MaxValue;

    /// <summary>
    /// One step of a SQLite fold, in its own transaction: starts a fold of the oldest <paramref name="limit"/> unfolded
    /// likes if none is under way (<c>likes_fold.upto</c>, the highest id it takes up: likes are numbered in the order the
    /// one writer runs them, so every like committed later has a higher id, and is left to the next fold), then writes
    /// the next range of about <paramref name="step"/> of them: first into <c>favourites_by_account</c> by account
    /// range, then into <c>favourites_by_status</c> and the counts by post range, each range once (so a page is written
    /// once per fold, as when the fold was one transaction), moving that list's cursor past the range in the same
    /// transaction; last it marks them folded, oldest first, telling the observers in the same transaction, and ends the
    /// fold with the last. Reads and unlikes read the cursors (<see cref="NotYetIn"/>, <see cref="FoldedSoFarAsync"/>),
    /// so each like is counted and listed exactly once in every state; a crash leaves the last committed step, which
    /// the next call continues. Returns how many likes it marked folded and whether the fold is over (or none waited).
    /// </summary>
    public Task<(int Marked, bool Done)> FoldStepAsync(int limit, int step, CancellationToken ct)
    {
        if (db.Provider != DbProvider.Sqlite)
            throw new InvalidOperationException("Only SQLite folds in steps.");
        return db.WriteAsync(async w =>
        {
            var (upto, accountCursor, statusCursor) = await w.QuerySingleOrDefaultAsync<(long, long, long)>("SELECT upto, account_cursor, status_cursor FROM likes_fold WHERE id = 1");
            if (upto == 0)
            {
                upto = await w.ExecuteScalarAsync<long?>("SELECT MAX(id) FROM (SELECT id FROM favourites WHERE folded = 0 ORDER BY id LIMIT @limit)", new { limit }) ?? 0;
                if (upto == 0)
                    return (0, true);
                accountCursor = statusCursor = long.MinValue;
                await w.ExecuteAsync("UPDATE likes_fold SET upto = @upto, account_cursor = @accountCursor, status_cursor = @statusCursor WHERE id = 1", new { upto, accountCursor, statusCursor });
            }
            const string Taken = "FROM favourites WHERE folded = 0 AND id <= @upto";
            // A range runs from the cursor to the (step)th account or post past it: all of the cursor's own likes and
            // fewer than step others, so it always moves on.
            var skip = Math.Max(0, step - 1);
            if (accountCursor != AllDone)
            {
                var next = await w.ExecuteScalarAsync<long?>($"SELECT account_id {Taken} AND account_id > @accountCursor ORDER BY account_id LIMIT 1 OFFSET @skip", new { upto, accountCursor, skip }) ?? AllDone;
                await w.ExecuteAsync($"INSERT INTO favourites_by_account (account_id, id, status_id) SELECT account_id, id, status_id {Taken} AND account_id >= @accountCursor AND account_id < @next ORDER BY account_id, id",
                    new { upto, accountCursor, next });
                await w.ExecuteAsync("UPDATE likes_fold SET account_cursor = @next WHERE id = 1", new { next });
                return (0, false);
            }
            if (statusCursor != AllDone)
            {
                var next = await w.ExecuteScalarAsync<long?>($"SELECT status_id {Taken} AND status_id > @statusCursor ORDER BY status_id LIMIT 1 OFFSET @skip", new { upto, statusCursor, skip }) ?? AllDone;
                await w.ExecuteAsync($"INSERT INTO favourites_by_status (status_id, id, account_id) SELECT status_id, id, account_id {Taken} AND status_id >= @statusCursor AND status_id < @next ORDER BY status_id, id",
                    new { upto, statusCursor, next });
                await w.ExecuteAsync($"""
                    INSERT INTO favourite_counts (status_id, favourites_count) SELECT status_id, COUNT(*) {Taken} AND status_id >= @statusCursor AND status_id < @next GROUP BY status_id
                    ON CONFLICT (status_id) DO UPDATE SET favourites_count = favourite_counts.favourites_count + excluded.favourites_count
                    """, new { upto, statusCursor, next });
                await w.ExecuteAsync("UPDATE likes_fold SET status_cursor = @next WHERE id = 1", new { next });
                return (0, false);
            }
            // Both lists hold every like of the fold: mark the oldest folded.
            var last = await w.ExecuteScalarAsync<long?>($"SELECT MAX(id) FROM (SELECT id {Taken} ORDER BY id LIMIT @step)", new { upto, step });
            var marked = 0;
            if (last is { } lastId)
            {
                if (observers.Any())
                {
                    await ReportFoldedAsync(w, (await w.QueryAsync<FoldedLike>(
                        $"SELECT id AS Id, account_id AS AccountId, status_id AS StatusId, created_at AS CreatedAt {Taken} AND id <= @lastId ORDER BY id", new { upto, lastId })).ToList());
                }
                marked = await w.ExecuteAsync($"UPDATE favourites SET folded = 1 WHERE folded = 0 AND id <= @lastId", new { lastId });
            }
            if (marked == step)
                return (marked, false);
            await w.ExecuteAsync("UPDATE likes_fold SET upto = 0, account_cursor = 0, status_cursor = 0 WHERE id = 1");
            return (marked, true);
        }, ct);
    }

    /// <summary>
    /// Inside an unlike's write, for a like still marked unfolded: whether a SQLite fold under way already wrote it into
    /// <c>favourites_by_account</c> and into <c>favourites_by_status</c> and the counts (see <see cref="FoldStepAsync"/>).
    /// </summary>
    private static async Task<(bool ByAccount, bool ByStatus)> FoldedSoFarAsync(DbWrite w, long id, long accountId, long statusId)
    {
        if (w.Provider != DbProvider.Sqlite)
            return (false, false);
        var (upto, accountCursor, statusCursor) = await w.QuerySingleOrDefaultAsync<(long, long, long)>("SELECT upto, account_cursor, status_cursor FROM likes_fold WHERE id = 1");
        return (id <= upto && accountId < accountCursor, id <= upto && statusId < statusCursor);
    }

    /// <summary>
    /// Inside another module's write: which of the (account, post) pairs are liked now, in one query, their rows locked
    /// until that write ends on PostgreSQL (taken in id order, as the fold takes them), so an unlike (or the post's
    /// delete) racing the write waits for it and then sees what it wrote. SQLite has one writer.
    /// </summary>
    public static async Task<HashSet<(long Account, long Status)>> HeldLikesAsync(DbWrite w, IReadOnlyList<(long Account, long Status)> pairs)
    {
        if (pairs.Count == 0)
            return [];
        var held = w.Provider == DbProvider.Postgres
            ? await w.Connection.QueryAsync<(long, long)>("""
                SELECT f.account_id, f.status_id FROM unnest(@accounts, @statuses) AS p(a, s)
                JOIN favourites f ON f.account_id = p.a AND f.status_id = p.s ORDER BY f.id FOR UPDATE OF f
                """, new { accounts = pairs.Select(p => p.Account).ToArray(), statuses = pairs.Select(p => p.Status).ToArray() }, w.Transaction)
            : await w.Connection.QueryAsync<(long, long)>("""
                SELECT f.account_id, f.status_id FROM json_each(@pairs) AS p
                JOIN favourites f ON f.account_id = p.value ->> 0 AND f.status_id = p.value ->> 1
                """, new { pairs = "[" + string.Join(',', pairs.Select(p => string.Create(CultureInfo.InvariantCulture, $"[{p.Account},{p.Status}]"))) + "]" }, w.Transaction);
        return held.ToHashSet();
    }

    private async Task ReportFoldedAsync(DbWrite w, IReadOnlyList<FoldedLike> folded)
    {
        if (folded.Count == 0)
            return;
        foreach (var observer in observers)
            await observer.LikesFoldedAsync(w, folded);
    }

    private const long FoldLockKey = 0x4C494B4553; // "LIKES"

    /// <summary>Drops a post's likes with the post (in its delete transaction).</summary>
    public static async Task DeleteForPostAsync(DbWrite w, long statusId)
    {
        // Unfolded ones first: on PostgreSQL a fold holding them makes this wait for its commit, and the statements
        // after it then see what that fold wrote.
        if (w.Provider == DbProvider.Sqlite)
        {
            // A SQLite fold under way may have listed some of them by account already (see FoldStepAsync).
            await w.ExecuteAsync("DELETE FROM favourites_by_account WHERE (account_id, id) IN (SELECT account_id, id FROM favourites WHERE folded = 0 AND status_id = @statusId)", new { statusId });
        }
        await w.ExecuteAsync("DELETE FROM favourites WHERE folded = 0 AND status_id = @statusId", new { statusId });
        await w.ExecuteAsync("DELETE FROM favourites_by_account WHERE (account_id, id) IN (SELECT account_id, id FROM favourites_by_status WHERE status_id = @statusId)", new { statusId });
        await w.ExecuteAsync("DELETE FROM favourites WHERE id IN (SELECT id FROM favourites_by_status WHERE status_id = @statusId)", new { statusId });
        await w.ExecuteAsync("DELETE FROM favourites_by_status WHERE status_id = @statusId", new { statusId });
        await w.ExecuteAsync("DELETE FROM favourite_counts WHERE status_id = @statusId", new { statusId });
    }
}

/// <summary>A like as it committed or as the write-behind folded it: its row id, who liked which post, and when (Unix ms).</summary>
public sealed class FoldedLike
{
    public long Id { get; init; }
    public long AccountId { get; init; }
    public long StatusId { get; init; }
    public long CreatedAt { get; init; }
}

/// <summary>
/// Modules that react to likes (notifications). A new like is handed over twice: right after its commit, in its request
/// (<see cref="LikeCommitted"/>: in memory only, for what should happen soon, and lost with the process), and durably
/// in batches, in the transaction of the fold that takes it up (<see cref="LikesService.FoldAsync"/>), so a like's
/// request writes no more than its own row, and a crash before the fold leaves the like unfolded, to be folded and
/// reported after restart. An unlike is reported in its own transaction, only when a like was really taken back.
/// </summary>
public interface ILikeObserver
{
    /// <summary>After the like's commit, before its answer: must only hand the like on (no I/O, no waiting).</summary>
    void LikeCommitted(FoldedLike like);

    Task LikesFoldedAsync(DbWrite write, IReadOnlyList<FoldedLike> likes);

    Task UnlikedAsync(DbWrite write, long liker, PostCore post);
}
