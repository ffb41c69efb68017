using System.Globalization;
using System.Net.Http.Json;
using Lenta.Server.Feed;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Feed;

/// <summary>Fan-out at scale (20,000 followers seeded in the database), the hybrid pull path, and the cache's byte budget.</summary>
public sealed class FanOutScaleTests
{
    private const int Followers = 20_000;

    private static async Task<(TestServer Server, Mastodon Client, Mastodon.User Author, List<long> Followers)> StartWithFollowersAsync(long threshold, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Lenta:RateLimits:Enabled"] = "false",
            ["Lenta:Feed:FanOutThreshold"] = threshold.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in extra ?? [])
            settings[k] = v;
        var server = await TestServer.StartAsync(settings);
        var client = new Mastodon(server.Http);
        var author = await client.SignUpAsync();
        var followers = await Seed.FollowersAsync(server.Services, long.Parse(author.Id, CultureInfo.InvariantCulture), Followers);
        return (server, client, author, followers);
    }

    private static async Task<string> PostAsync(Mastodon client, Mastodon.User author, string text)
    {
        using var r = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = text }));
        return (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task A_post_fans_out_to_twenty_thousand_followers()
    {
        var (server, client, author, followers) = await StartWithFollowersAsync(threshold: 50_000);
        await using var _ = server;
        var cache = server.Services.GetRequiredService<ICache>();
        foreach (var f in followers)
            await cache.SortedReplaceAsync(FeedService.Key(f), Array.Empty<long>(), 800); // they have read their feeds

        var id = long.Parse(await PostAsync(client, author, "to all twenty thousand"), CultureInfo.InvariantCulture);
        var metrics = server.Services.GetRequiredService<FanOutMetrics>();
        var sample = await Eventually.WaitAsync(() => Task.FromResult(metrics.Recent().FirstOrDefault(s => s.StatusId == id)), s => s is not null, TimeSpan.FromSeconds(120), "the fan-out to finish");
        Assert.Equal(Followers, sample!.Followers);
        Assert.Equal(Followers, sample.Pushed);
        Assert.False(sample.Pulled);
        foreach (var f in followers)
            Assert.Equal([id], (await cache.SortedRangeAsync(FeedService.Key(f), new SortedRange(null, null, 10)))!);
    }

    [Fact]
    public async Task An_account_over_the_threshold_is_pulled_at_read_time_at_constant_cost()
    {
        var (server, client, author, followers) = await StartWithFollowersAsync(threshold: 10_000);
        await using var _ = server;
        var cache = server.Services.GetRequiredService<ICache>();
        foreach (var f in followers.Take(100))
            await cache.SortedReplaceAsync(FeedService.Key(f), Array.Empty<long>(), 800);

        // One real follower with a token, among the twenty thousand.
        var reader = await client.SignUpAsync();
        using (var r = await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token))
            await Mastodon.Ok(r);
        Assert.Empty((await client.GetAsync("api/v1/timelines/home", reader.Token)).EnumerateArray());

        var id = await PostAsync(client, author, "too many followers to push");
        var metrics = server.Services.GetRequiredService<FanOutMetrics>();
        var sample = await Eventually.WaitAsync(() => Task.FromResult(metrics.Recent().FirstOrDefault(s => s.StatusId == long.Parse(id, CultureInfo.InvariantCulture))),
            s => s is not null, TimeSpan.FromSeconds(60), "the fan-out job");
        Assert.True(sample!.Pulled);
        Assert.Equal(0, sample.Pushed);
        foreach (var f in followers.Take(100))
            Assert.Empty((await cache.SortedRangeAsync(FeedService.Key(f), new SortedRange(null, null, 10)))!); // no writes per follower

        var home = (await client.GetAsync("api/v1/timelines/home", reader.Token)).EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList();
        Assert.Equal([id], home); // merged at read time
        await server.Services.GetRequiredService<ICache>().ClearAsync();
        Assert.Equal([id], (await client.GetAsync("api/v1/timelines/home", reader.Token)).EnumerateArray().Select(s => s.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task The_cache_budget_holds_under_a_large_graph_and_feeds_stay_right()
    {
        const long budget = 2L * 1024 * 1024;
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lenta:RateLimits:Enabled"] = "false",
            ["Lenta:Cache:MaxBytes"] = budget.ToString(CultureInfo.InvariantCulture),
        });
        var client = new Mastodon(server.Http);
        var authors = new List<Mastodon.User>();
        for (var i = 0; i < 3; i++)
            authors.Add(await client.SignUpAsync());
        var followers = new List<long>();
        foreach (var a in authors)
            followers.AddRange(await Seed.FollowersAsync(server.Services, long.Parse(a.Id, CultureInfo.InvariantCulture), 3000));
        var cache = (MemoryCache)server.Services.GetRequiredService<ICache>();
        foreach (var f in followers)
            await cache.SortedReplaceAsync(FeedService.Key(f), Array.Empty<long>(), 800);
        for (var i = 0; i < 30; i++)
            await PostAsync(client, authors[i % 3], $"post {i} " + new string('x', 300));
        await Eventually.WaitAsync(() => server.Services.GetRequiredService<IJobQueue>().CountAsync(), c => c.Ready + c.Running == 0, TimeSpan.FromSeconds(120), "fan-out");
        Assert.True(cache.SizeBytes <= budget, $"cache holds {cache.SizeBytes} bytes over its {budget} budget");

        // Whatever was evicted is rebuilt: a follower's feed equals what the database says.
        var feed = server.Services.GetRequiredService<FeedService>();
        foreach (var f in followers.Where((_, i) => i % 997 == 0))
        {
            var page = await feed.HomeAsync(f, new Lenta.Server.Api.Page(null, null, null, 40), CancellationToken.None);
            Assert.Equal((await feed.ComputeAsync(f, CancellationToken.None)).Take(40), page.Select(p => p.Id));
            Assert.Equal(10, page.Count);
        }
        Assert.True(cache.SizeBytes <= budget);
    }
}
