using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Lenta.Server.Feed;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Platform;

/// <summary>
/// The cache on Redis, shared by processes and able to lose everything: what one process writes another reads at once,
/// and a flushed, stopped or restarted Redis costs speed, never a post, a like or a timeline's correctness.
/// </summary>
public sealed class RedisTests
{
    [Fact]
    public async Task Two_processes_on_one_database_and_one_redis_see_each_others_writes_at_once()
    {
        var env = new Dictionary<string, string>
        {
            ["Lenta__Database__Provider"] = "postgres",
            ["Lenta__Database__ConnectionString"] = await Postgres.CreateDatabaseAsync(),
            ["Lenta__Cache__Provider"] = "redis",
            ["Lenta__Cache__ConnectionString"] = Redis.Single,
            ["Lenta__Cache__KeyPrefix"] = Redis.NewPrefix(),
            ["Lenta__RateLimits__Enabled"] = "false",
            ["Lenta__Queue__PollIntervalMs"] = "100",
        };
        var dataA = TempFolder.Create("lenta-a");
        var dataB = TempFolder.Create("lenta-b");
        try
        {
            await using var a = await ServerProcess.StartAsync(new Dictionary<string, string>(env) { ["Lenta__NodeId"] = "1", ["Lenta__DataPath"] = dataA });
            await using var b = await ServerProcess.StartAsync(new Dictionary<string, string>(env) { ["Lenta__NodeId"] = "2", ["Lenta__DataPath"] = dataB });
            var viaA = new Mastodon(a.Http);
            var viaB = new Mastodon(b.Http);

            var author = await viaA.SignUpAsync();
            var reader = await viaB.SignUpAsync();
            await Mastodon.Ok(await viaA.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token));
            Assert.Empty((await viaB.GetAsync("api/v1/timelines/home", reader.Token)).EnumerateArray()); // B caches the reader's timeline

            var clock = Stopwatch.StartNew();
            var id = (await Mastodon.Ok(await viaA.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = "through A" }))))
                .GetProperty("id").GetString()!;
            // The post itself and the author's page are there on B with the next request; the follower's home once the
            // fan-out job (run by either process's worker) has pushed it.
            Assert.Equal("through A", Text(await viaB.GetAsync($"api/v1/statuses/{id}", reader.Token)));
            Assert.Equal(id, (await viaB.GetAsync($"api/v1/accounts/{author.Id}/statuses", reader.Token))[0].GetProperty("id").GetString());
            await Eventually.WaitAsync(async () => (await viaB.GetAsync("api/v1/timelines/home", reader.Token)).EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList(),
                ids => ids.Contains(id), TimeSpan.FromSeconds(10), "the post in the follower's home on B");
            var delivered = clock.Elapsed;

            // Likes move the shared counter before they are acknowledged: the other process counts them on its next read.
            await Mastodon.Ok(await viaA.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/favourite", reader.Token));
            Assert.Equal(1, (await viaB.GetAsync($"api/v1/statuses/{id}", reader.Token)).GetProperty("favourites_count").GetInt32());
            Assert.True((await viaB.GetAsync($"api/v1/statuses/{id}", reader.Token)).GetProperty("favourited").GetBoolean());
            await Mastodon.Ok(await viaB.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/unfavourite", reader.Token));
            Assert.Equal(0, (await viaA.GetAsync($"api/v1/statuses/{id}", reader.Token)).GetProperty("favourites_count").GetInt32());
            Assert.False((await viaA.GetAsync($"api/v1/statuses/{id}", reader.Token)).GetProperty("favourited").GetBoolean());

            // A profile edit through B shows through A (the account cache is the shared one).
            using var edit = await viaB.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", author.Token, JsonContent.Create(new { display_name = "Renamed on B" }));
            await Mastodon.Ok(edit);
            Assert.Equal("Renamed on B", (await viaA.GetAsync($"api/v1/accounts/{author.Id}")).GetProperty("display_name").GetString());
            Assert.True(delivered < TimeSpan.FromSeconds(10));
        }
        finally
        {
            TempFolder.Delete(dataA);
            TempFolder.Delete(dataB);
        }
    }

    [Fact]
    public async Task After_a_flush_a_herd_of_readers_on_two_processes_rebuilds_a_timeline_once()
    {
        var database = await Postgres.CreateDatabaseAsync();
        var prefix = Redis.NewPrefix();
        Dictionary<string, string?> Settings(int node) => new()
        {
            ["Lenta:NodeId"] = node.ToString(CultureInfo.InvariantCulture),
            ["Lenta:Database:Provider"] = "postgres",
            ["Lenta:Database:ConnectionString"] = database,
            ["Lenta:Cache:Provider"] = "redis",
            ["Lenta:Cache:ConnectionString"] = Redis.Single,
            ["Lenta:Cache:KeyPrefix"] = prefix,
            ["Lenta:RateLimits:Enabled"] = "false",
        };
        // A rebuild takes a while (its write held back 1.5 s), so both processes meet the missing timeline at once.
        var slow = new StoreCounter { BeforeSortedReplace = _ => Task.Delay(1500) };
        await using var a = await TestServer.StartAsync(Settings(1), decorate: StoreCounter.Decorate(slow));
        await using var b = await TestServer.StartAsync(Settings(2), decorate: StoreCounter.Decorate(slow));
        var client = new Mastodon(a.Http);
        var author = await client.SignUpAsync();
        var reader = await client.SignUpAsync();
        await Mastodon.Ok(await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token));
        for (var i = 0; i < 5; i++)
            await Mastodon.Ok(await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = $"post {i}" })));

        await a.Services.GetRequiredService<ICache>().ClearAsync();
        var feeds = new[] { a, b }.Select(s => s.Services.GetRequiredService<FeedService>()).ToList();
        var before = feeds.Sum(f => f.Rebuilds);
        var pages = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            await Task.Delay(i / 2 * 10);
            return await new Mastodon(i % 2 == 0 ? a.Http : b.Http).GetAsync("api/v1/timelines/home", reader.Token);
        }));
        Assert.All(pages, p => Assert.Equal(5, p.GetArrayLength()));
        Assert.True(feeds.Sum(f => f.Rebuilds) - before == 1, $"rebuilds: {string.Join(", ", feeds.Select(f => f.Rebuilds))}, before {before}");
    }

    [Fact]
    public async Task Flushing_redis_under_compose_and_like_load_leaves_every_timeline_and_count_equal_to_the_database()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await using var server = await StartAsync(redis);
        var world = await SmallWorld.CreateAsync(new Mastodon(server.Http), 8);
        var flushes = 0;
        var load = await world.RunAsync(TimeSpan.FromSeconds(5), async elapsed =>
        {
            if (flushes < 2 && elapsed > TimeSpan.FromSeconds(1.5 + 2 * flushes))
            {
                flushes++;
                await redis.FlushAllAsync();
            }
        });
        Assert.Equal(2, flushes);
        Assert.True(load.Posts.Count > 20, $"only {load.Posts.Count} posts were acknowledged");
        Assert.True(load.Likes > 20, $"only {load.Likes} likes were acknowledged");
        Assert.Empty(load.Failures);
        await AssertMatchesDatabaseAsync(server, world, load);
    }

    [Fact]
    public async Task Redis_stopped_and_started_then_frozen_under_load_loses_no_acknowledged_write_and_the_server_recovers_by_itself()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await using var server = await StartAsync(redis);
        var world = await SmallWorld.CreateAsync(new Mastodon(server.Http), 8);
        // Killed and started empty first; then frozen, keeping what it held, so the writes it missed must be repaired.
        var step = 0;
        HttpStatusCode? readyWhileDown = null;
        var load = await world.RunAsync(TimeSpan.FromSeconds(10), async elapsed =>
        {
            switch (step)
            {
                case 0 when elapsed > TimeSpan.FromSeconds(1.5):
                    await redis.StopAsync();
                    step++;
                    break;
                case 1 when elapsed > TimeSpan.FromSeconds(2.5):
                    using (var ready = await server.Http.GetAsync("health/ready"))
                        readyWhileDown = ready.StatusCode;
                    step++;
                    break;
                case 2 when elapsed > TimeSpan.FromSeconds(3.5):
                    await redis.StartAgainAsync();
                    step++;
                    break;
                case 3 when elapsed > TimeSpan.FromSeconds(5):
                    await redis.PauseAsync();
                    step++;
                    break;
                case 4 when elapsed > TimeSpan.FromSeconds(8):
                    await redis.ResumeAsync();
                    step++;
                    break;
            }
        });
        var started = step == 5;
        Assert.True(started);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyWhileDown);
        // Every request was answered, none hung: reads went to the database, writes were acknowledged once durable.
        Assert.Empty(load.Failures);
        Assert.True(load.Slowest < TimeSpan.FromSeconds(5), $"a request took {load.Slowest}");
        Assert.True(load.Posts.Count > 20 && load.Likes > 20, $"{load.Posts.Count} posts, {load.Likes} likes acknowledged");
        await Eventually.WaitAsync(async () => (await server.Http.GetAsync("health/ready")).StatusCode, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "ready again");
        var cache = (RedisCache)server.Services.GetRequiredService<ICache>();
        await Eventually.WaitAsync(() => Task.FromResult(cache.PendingRepairs), n => n == 0, TimeSpan.FromSeconds(30), "the missed writes' keys repaired");
        await AssertMatchesDatabaseAsync(server, world, load);
    }

    [Fact]
    public async Task With_redis_at_a_small_maxmemory_evicted_keys_are_rebuilt_and_every_answer_is_the_databases()
    {
        await using var redis = await PrivateRedis.StartAsync(maxMemory: "1200kb");
        await using var server = await StartAsync(redis);
        var world = await SmallWorld.CreateAsync(new Mastodon(server.Http), 8);
        var load = await world.RunAsync(TimeSpan.FromSeconds(5), _ => Task.CompletedTask);
        Assert.Empty(load.Failures);
        Assert.True(await redis.EvictedKeysAsync() > 0, "nothing was evicted: the test proves nothing at this size");
        await AssertMatchesDatabaseAsync(server, world, load, cachedTimelines: false);
    }

    private static Task<TestServer> StartAsync(PrivateRedis redis) => StartAsync(redis.Configuration);

    private static async Task<TestServer> StartAsync(string redis) => await TestServer.StartAsync(new Dictionary<string, string?>
    {
        ["Lenta:Database:Provider"] = "postgres",
        ["Lenta:Database:ConnectionString"] = await Postgres.CreateDatabaseAsync(),
        ["Lenta:Cache:Provider"] = "redis",
        ["Lenta:Cache:ConnectionString"] = redis,
        ["Lenta:Cache:TimeoutMs"] = "500",
        ["Lenta:RateLimits:Enabled"] = "false",
    });

    /// <summary>After the load: every acknowledged post and like is in the database, and what the cache serves equals what the database says.</summary>
    /// <param name="cachedTimelines">whether each timeline read must then be in the cache (not when Redis may evict it at once)</param>
    private static async Task AssertMatchesDatabaseAsync(TestServer server, SmallWorld world, SmallWorld.Outcome load, bool cachedTimelines = true)
    {
        var client = new Mastodon(server.Http);
        var services = server.Services;
        await Eventually.WaitAsync(() => services.GetRequiredService<IJobQueue>().CountAsync(), c => c.Ready + c.Running == 0, TimeSpan.FromSeconds(60), "the jobs to drain");
        var db = services.GetRequiredService<IDatabase>();
        var cache = services.GetRequiredService<ICache>();
        var feed = services.GetRequiredService<FeedService>();

        foreach (var user in world.Users)
        {
            // A read rebuilds a timeline the flush took; then the cached one must be exactly the database's.
            var home = (await client.GetAsync("api/v1/timelines/home?limit=40", user.Token)).EnumerateArray().Select(s => long.Parse(s.GetProperty("id").GetString()!, CultureInfo.InvariantCulture)).ToList();
            var truth = await feed.ComputeAsync(long.Parse(user.Id, CultureInfo.InvariantCulture), CancellationToken.None);
            Assert.Equal(truth.Take(40), home);
            var cached = await cache.SortedRangeAsync(FeedService.Key(long.Parse(user.Id, CultureInfo.InvariantCulture)), new SortedRange(null, null, 10_000));
            if (cachedTimelines)
                Assert.NotNull(cached);
            if (cached is not null)
                Assert.Equal(truth, cached);
        }

        var stored = (await db.ReadAsync(c => Dapper.SqlMapper.QueryAsync<(long Id, long Likes)>(c,
            "SELECT s.id, (SELECT COUNT(*) FROM favourites f WHERE f.status_id = s.id) FROM statuses s"))).ToDictionary(r => r.Id, r => r.Likes);
        foreach (var (id, likes) in load.Posts)
        {
            Assert.True(stored.ContainsKey(id), $"acknowledged post {id} is missing");
            var status = await client.GetAsync($"api/v1/statuses/{id}", world.Users[0].Token);
            Assert.Equal(stored[id], status.GetProperty("favourites_count").GetInt64());
        }
        Assert.Equal(load.Likes, stored.Values.Sum());
    }

    private static string? Text(System.Text.Json.JsonElement status) =>
        System.Text.RegularExpressions.Regex.Replace(status.GetProperty("content").GetString() ?? "", "<[^>]+>", "");
}

/// <summary>A few accounts who all follow each other, composing, liking and reading their homes at once.</summary>
internal sealed class SmallWorld(Mastodon client, IReadOnlyList<Mastodon.User> users)
{
    public IReadOnlyList<Mastodon.User> Users => users;

    public static async Task<SmallWorld> CreateAsync(Mastodon client, int size)
    {
        var users = new List<Mastodon.User>();
        for (var i = 0; i < size; i++)
            users.Add(await client.SignUpAsync());
        foreach (var follower in users)
        {
            foreach (var target in users.Where(u => u != follower))
                await Mastodon.Ok(await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{target.Id}/follow", follower.Token));
        }
        return new SmallWorld(client, users);
    }

    /// <param name="Posts">every acknowledged post, with the likes acknowledged on it</param>
    /// <param name="Likes">acknowledged likes in all</param>
    /// <param name="Failures">requests that got anything but their success answer</param>
    /// <param name="Slowest">the longest any request took</param>
    public sealed record Outcome(IReadOnlyDictionary<long, int> Posts, int Likes, IReadOnlyList<string> Failures, TimeSpan Slowest);

    /// <summary>Runs the load for <paramref name="length"/>; <paramref name="meanwhile"/> is called every 100 ms with the time elapsed.</summary>
    public async Task<Outcome> RunAsync(TimeSpan length, Func<TimeSpan, Task> meanwhile)
    {
        var posts = new ConcurrentDictionary<long, int>();
        var liked = new ConcurrentDictionary<(string, long), bool>();
        var failures = new ConcurrentQueue<string>();
        var slowest = 0L;
        var likes = 0;
        var clock = Stopwatch.StartNew();
        async Task<HttpResponseMessage> Timed(Func<Task<HttpResponseMessage>> send)
        {
            var start = clock.ElapsedTicks;
            var response = await send();
            var took = clock.ElapsedTicks - start;
            long seen;
            while (took > (seen = Interlocked.Read(ref slowest)) && Interlocked.CompareExchange(ref slowest, took, seen) != seen)
            {
            }
            if (!response.IsSuccessStatusCode)
                failures.Enqueue($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return response;
        }

        var workers = users.Select(async (user, n) =>
        {
            var random = new Random(n);
            while (clock.Elapsed < length)
            {
                switch (random.Next(3))
                {
                    case 0:
                        using (var r = await Timed(() => client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = $"post by {user.Username}" }))))
                        {
                            if (r.IsSuccessStatusCode)
                                posts.TryAdd(long.Parse((await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!, CultureInfo.InvariantCulture), 0);
                        }
                        break;
                    case 1:
                        var known = posts.Keys.ToList();
                        if (known.Count == 0)
                            break;
                        var id = known[random.Next(known.Count)];
                        if (!liked.TryAdd((user.Id, id), true))
                            break;
                        using (var r = await Timed(() => client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/favourite", user.Token)))
                        {
                            if (r.IsSuccessStatusCode)
                            {
                                Interlocked.Increment(ref likes);
                                posts.AddOrUpdate(id, 1, (_, c) => c + 1);
                            }
                        }
                        break;
                    default:
                        using (await Timed(() => client.SendAsync(HttpMethod.Get, "api/v1/timelines/home", user.Token)))
                        {
                        }
                        break;
                }
            }
        }).ToList();
        var side = Task.Run(async () =>
        {
            while (clock.Elapsed < length)
            {
                await meanwhile(clock.Elapsed);
                await Task.Delay(100);
            }
        });
        await Task.WhenAll(workers.Append(side));
        return new Outcome(posts, likes, [.. failures], TimeSpan.FromTicks((long)(Interlocked.Read(ref slowest) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency))));
    }
}
