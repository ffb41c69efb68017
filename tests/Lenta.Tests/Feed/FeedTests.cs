using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Server.Feed;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Feed;

/// <summary>The home feed: fan-out on write, self-healing timelines, hybrid push/pull, over real HTTP on both engines.</summary>
public abstract class FeedTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private ICache Cache => fixture.Server.Services.GetRequiredService<ICache>();

    private static long L(string id) => long.Parse(id, CultureInfo.InvariantCulture);

    private Task<string> PostAsync(Mastodon.User user, string text, string visibility = "public") => Client.PostAsync(user, text, visibility);

    private Task FollowAsync(Mastodon.User follower, Mastodon.User target) => Client.FollowAsync(follower, target);

    private async Task<List<string>> HomeAsync(Mastodon.User user, string query = "") =>
        (await Client.GetAsync($"api/v1/timelines/home{query}", user.Token)).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    private async Task<long[]?> CachedAsync(Mastodon.User user) => await Cache.SortedRangeAsync(FeedService.Key(L(user.Id)), new SortedRange(null, null, 1000));

    private Task QueueDrainedAsync() => Eventually.WaitAsync(
        () => fixture.Server.Services.GetRequiredService<IJobQueue>().CountAsync(),
        c => c.Ready + c.Running == 0, TimeSpan.FromSeconds(60), "the job queue to drain");

    [Fact]
    public async Task A_post_is_pushed_into_every_followers_cached_timeline_and_the_authors_own()
    {
        var author = await Client.SignUpAsync();
        var f1 = await Client.SignUpAsync();
        var f2 = await Client.SignUpAsync();
        await FollowAsync(f1, author);
        await FollowAsync(f2, author);
        Assert.Empty(await HomeAsync(f1)); // reading creates f1's cached timeline
        Assert.Empty(await HomeAsync(f2));
        Assert.Empty(await HomeAsync(author));

        var id = await PostAsync(author, "hello followers");
        Assert.Equal([id], await HomeAsync(author)); // own post at once, no job needed
        await Eventually.WaitAsync(() => CachedAsync(f1), t => t is not null && t.Contains(L(id)), TimeSpan.FromSeconds(20), "fan-out to f1");
        await Eventually.WaitAsync(() => CachedAsync(f2), t => t is not null && t.Contains(L(id)), TimeSpan.FromSeconds(20), "fan-out to f2");
        Assert.Equal([id], await HomeAsync(f1));

        var stranger = await Client.SignUpAsync();
        Assert.Empty(await HomeAsync(stranger));
        using var anonymous = await Client.SendAsync(HttpMethod.Get, "api/v1/timelines/home");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Home_pages_with_both_links_and_mastodons_cursors()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        await FollowAsync(reader, author);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add(await PostAsync(author, $"post {i}"));
        ids.Reverse();
        await QueueDrainedAsync();

        using var first = await Client.SendAsync(HttpMethod.Get, "api/v1/timelines/home?limit=2", reader.Token);
        Assert.Equal(ids.Take(2), (await Mastodon.Ok(first)).EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        var link = first.Headers.GetValues("Link").Single();
        Assert.Contains($"max_id={ids[1]}", link, StringComparison.Ordinal);
        Assert.Contains($"min_id={ids[0]}", link, StringComparison.Ordinal);
        Assert.Equal(ids.Skip(2).Take(2), await HomeAsync(reader, $"?limit=2&max_id={ids[1]}"));
        Assert.Equal([ids[2], ids[3]], await HomeAsync(reader, $"?limit=2&min_id={ids[4]}"));
        Assert.Equal([ids[0], ids[1]], await HomeAsync(reader, $"?limit=2&since_id={ids[4]}"));
    }

    [Fact]
    public async Task Following_merges_recent_posts_and_unfollowing_removes_them()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var earlier = await PostAsync(author, "before the follow");
        Assert.Empty(await HomeAsync(reader)); // cached, empty
        await FollowAsync(reader, author);
        await Eventually.WaitAsync(() => HomeAsync(reader), h => h.Contains(earlier), TimeSpan.FromSeconds(20), "the merge");

        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/unfollow", reader.Token))
            await Mastodon.Ok(r);
        await Eventually.WaitAsync(() => HomeAsync(reader), h => !h.Contains(earlier), TimeSpan.FromSeconds(20), "the unmerge");
    }

    [Fact]
    public async Task A_deleted_post_disappears_from_every_feed()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        await FollowAsync(reader, author);
        Assert.Empty(await HomeAsync(reader));
        var id = await PostAsync(author, "soon gone");
        await Eventually.WaitAsync(() => HomeAsync(reader), h => h.Contains(id), TimeSpan.FromSeconds(20), "fan-out");
        using (var r = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author.Token))
            await Mastodon.Ok(r);
        Assert.DoesNotContain(id, await HomeAsync(reader)); // at once
        Assert.DoesNotContain(id, await HomeAsync(author));
        await Eventually.WaitAsync(() => CachedAsync(reader), t => t is not null && !t.Contains(L(id)), TimeSpan.FromSeconds(20), "the retraction");
    }

    [Fact]
    public async Task A_private_post_reaches_only_approved_followers()
    {
        var author = await Client.SignUpAsync();
        using (await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", author.Token, JsonContent.Create(new { locked = true })))
        {
        }
        var approved = await Client.SignUpAsync();
        var pending = await Client.SignUpAsync();
        await FollowAsync(approved, author);
        await FollowAsync(pending, author);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/follow_requests/{approved.Id}/authorize", author.Token))
            await Mastodon.Ok(r);
        Assert.Empty(await HomeAsync(approved));
        Assert.Empty(await HomeAsync(pending));
        var id = await PostAsync(author, "followers only", "private");
        await QueueDrainedAsync();
        Assert.Contains(id, await HomeAsync(approved));
        Assert.DoesNotContain(id, await HomeAsync(pending));
        Assert.DoesNotContain(L(id), await CachedAsync(pending) ?? []);
    }

    [Fact]
    public async Task A_lost_cache_rebuilds_every_feed_equal_to_what_it_was()
    {
        var users = new List<Mastodon.User>();
        for (var i = 0; i < 5; i++)
            users.Add(await Client.SignUpAsync());
        foreach (var a in users)
        {
            foreach (var b in users.Where(b => b != a && users.IndexOf(b) % 2 == users.IndexOf(a) % 2))
                await FollowAsync(a, b);
        }
        foreach (var u in users)
            Assert.NotNull(await HomeAsync(u));
        foreach (var u in users)
        {
            await PostAsync(u, $"public from {u.Username}");
            await PostAsync(u, $"private from {u.Username}", "private");
        }
        await QueueDrainedAsync();
        var before = new List<List<string>>();
        foreach (var u in users)
            before.Add(await HomeAsync(u, "?limit=40"));

        await Cache.ClearAsync();
        for (var i = 0; i < users.Count; i++)
            Assert.Equal(before[i], await HomeAsync(users[i], "?limit=40"));
        for (var i = 0; i < users.Count; i++)
        {
            var followed = users.Count(b => b != users[i] && users.IndexOf(b) % 2 == i % 2);
            Assert.Equal(2 + 2 * followed, before[i].Count); // own two posts and two from each followed account
        }
    }

    [Fact]
    public async Task Concurrent_readers_of_a_missing_timeline_share_one_rebuild()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        await FollowAsync(reader, author);
        await PostAsync(author, "x");
        await QueueDrainedAsync();
        await Client.GetAsync("api/v1/accounts/verify_credentials", reader.Token);
        // Every process's count: behind a front the readers reach two read nodes, which share the rebuild through the cache's lock.
        long Rebuilds() => fixture.Server.Nodes.Sum(n => n.GetRequiredService<FeedService>().Rebuilds);
        await Cache.RemoveAsync(FeedService.Key(L(reader.Id)));
        var before = Rebuilds();
        var pages = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => HomeAsync(reader)));
        Assert.All(pages, p => Assert.Single(p));
        Assert.Equal(1, Rebuilds() - before);
    }

    [Fact]
    public async Task A_redelivered_fan_out_pushes_nothing_twice()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        await FollowAsync(reader, author);
        Assert.Empty(await HomeAsync(reader));
        var id = await PostAsync(author, "once");
        await QueueDrainedAsync();
        var handler = fixture.Server.Services.GetRequiredService<FanOutHandler>();
        var payload = JsonSerializer.Serialize(new FanOutJob(L(id), L(author.Id)));
        await handler.HandleAsync(new Job(1, FeedObserver.Queue, FanOutHandler.JobType, payload, 2), CancellationToken.None);
        await handler.HandleAsync(new Job(1, FeedObserver.Queue, FanOutHandler.JobType, payload, 3), CancellationToken.None);
        Assert.Equal([id], await HomeAsync(reader));
        Assert.Single((await CachedAsync(reader))!, x => x == L(id));
    }

    [Fact]
    public async Task The_public_timeline_lists_public_posts_without_replies_to_others()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var open = await PostAsync(alice, "public one");
        await PostAsync(alice, "unlisted one", "unlisted");
        await PostAsync(alice, "private one", "private");
        using (var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", bob.Token, JsonContent.Create(new { status = "reply", in_reply_to_id = open })))
            await Mastodon.Ok(r);
        var timeline = await Client.GetAsync("api/v1/timelines/public?limit=40");
        var mine = timeline.EnumerateArray().Where(s => s.GetProperty("account").GetProperty("id").GetString() is var a && (a == alice.Id || a == bob.Id)).ToList();
        Assert.Equal([open], mine.Select(s => s.GetProperty("id").GetString()));
        Assert.Equal(0, (await Client.GetAsync("api/v1/timelines/public?remote=true")).GetArrayLength());
    }

    [Fact]
    public async Task A_posts_fan_out_is_written_as_a_job_exactly_when_the_cache_outlives_the_process()
    {
        // Every job row ever written is logged by a trigger: the fan-out must reach the follower without one.
        var db = fixture.Server.Services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>();
        var log = $"job_log_{Guid.NewGuid():N}";
        var postgres = db.Provider == Lenta.Server.Platform.Database.DbProvider.Postgres;
        await db.WriteAsync(w => Dapper.SqlMapper.ExecuteAsync(w.Connection, postgres
            ? $"""
              CREATE TABLE {log} (type TEXT NOT NULL);
              CREATE FUNCTION {log}_f() RETURNS trigger AS $$ BEGIN INSERT INTO {log} (type) VALUES (NEW.type); RETURN NEW; END $$ LANGUAGE plpgsql;
              CREATE TRIGGER {log}_t AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION {log}_f();
              """
            : $"CREATE TABLE {log} (type TEXT NOT NULL); CREATE TRIGGER {log}_t AFTER INSERT ON jobs BEGIN INSERT INTO {log} (type) VALUES (NEW.type); END;",
            transaction: w.Transaction));
        try
        {
            var author = await Client.SignUpAsync();
            var follower = await Client.SignUpAsync();
            await FollowAsync(follower, author);
            Assert.Empty(await HomeAsync(follower));
            var id = await PostAsync(author, "in memory");
            await Eventually.WaitAsync(() => CachedAsync(follower), t => t is not null && t.Contains(L(id)), TimeSpan.FromSeconds(20), "the fan-out");
            var written = await db.ReadAsync(c => Dapper.SqlMapper.QueryAsync<string>(c, $"SELECT type FROM {log}"));
            // The in-process cache's timelines die with the process, and so may the job that changes them; a shared
            // cache's timelines outlive it, so their fan-out must be durable (outbox).
            if (Cache.OutlivesProcess)
                Assert.Contains(FanOutHandler.JobType, written);
            else
                Assert.DoesNotContain(FanOutHandler.JobType, written);
        }
        finally
        {
            await db.WriteAsync(w => Dapper.SqlMapper.ExecuteAsync(w.Connection, postgres
                ? $"DROP TRIGGER {log}_t ON jobs; DROP FUNCTION {log}_f(); DROP TABLE {log};"
                : $"DROP TRIGGER {log}_t; DROP TABLE {log};", transaction: w.Transaction));
        }
    }

    [Fact]
    public async Task Fan_out_finds_a_reader_active_by_the_cached_mark_or_else_by_the_database()
    {
        var author = await Client.SignUpAsync();
        var marked = await Client.SignUpAsync();
        var stored = await Client.SignUpAsync();
        await FollowAsync(marked, author);
        await FollowAsync(stored, author);
        Assert.Empty(await HomeAsync(marked)); // both read: each has a cached mark, a row and a cached timeline
        Assert.Empty(await HomeAsync(stored));
        var db = fixture.Server.Services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>();
        await db.WriteAsync(w => Dapper.SqlMapper.ExecuteAsync(w.Connection, "DELETE FROM feed_activity WHERE account_id = @id", new { id = L(marked.Id) }, w.Transaction));
        await Cache.RemoveAsync("active:" + stored.Id);
        var id = await PostAsync(author, "to both");
        await QueueDrainedAsync();
        Assert.Contains(L(id), await CachedAsync(marked) ?? []); // active by its mark alone
        Assert.Contains(L(id), await CachedAsync(stored) ?? []); // active by its row alone
    }

    [Fact]
    public async Task Followers_inactive_for_too_long_are_skipped_and_rebuilt_when_they_return()
    {
        var author = await Client.SignUpAsync();
        var idle = await Client.SignUpAsync();
        await FollowAsync(idle, author);
        Assert.Empty(await HomeAsync(idle));
        var db = fixture.Server.Services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>();
        var longAgo = DateTimeOffset.UtcNow.AddDays(-60).ToUnixTimeMilliseconds();
        await db.WriteAsync(w => Dapper.SqlMapper.ExecuteAsync(w.Connection, "UPDATE feed_activity SET last_read_at = @longAgo WHERE account_id = @id", new { longAgo, id = L(idle.Id) }, w.Transaction));
        await Cache.RemoveAsync("active:" + idle.Id); // 60 days passed: the hour's activity mark expired long ago
        var id = await PostAsync(author, "while you were away");
        await QueueDrainedAsync();
        Assert.DoesNotContain(L(id), await CachedAsync(idle) ?? []); // skipped by fan-out
        Assert.Equal([id], await HomeAsync(idle)); // back: the timeline is rebuilt with it
    }
}

public sealed class SqliteFeedTests(SqliteServer f) : FeedTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresFeedTests(PostgresServer f) : FeedTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisFeedTests(PostgresRedisServer f) : FeedTests(f), IClassFixture<PostgresRedisServer>;
