using System.Net.Http.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Posts;

/// <summary>Reading a page costs a fixed number of store round trips, whatever its size (no N+1).</summary>
public sealed class RoundTripTests
{
    [Fact]
    public async Task A_page_of_twenty_posts_costs_no_more_round_trips_than_a_page_of_two()
    {
        var counter = new StoreCounter();
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["Lenta:RateLimits:Enabled"] = "false" }, decorate: StoreCounter.Decorate(counter));
        var client = new Mastodon(server.Http);
        var author = await client.SignUpAsync();
        var reader = await client.SignUpAsync();
        using (await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token))
        {
        }
        for (var i = 0; i < 20; i++)
        {
            using var r = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = $"post {i} @{reader.Username} #tag{i}", visibility = i % 2 == 0 ? "public" : "private" }));
            await Mastodon.Ok(r);
        }

        await Eventually.WaitAsync(() => server.Services.GetRequiredService<Lenta.Server.Platform.Jobs.IJobQueue>().CountAsync(), c => c.Ready + c.Running == 0, TimeSpan.FromSeconds(30), "fan-out jobs to finish");

        // Background work (a worker's poll, the posts' notification jobs still finishing in process) may land inside a
        // measurement: the least of five is the request's own cost.
        async Task<int> CostAsync(int limit, bool warm)
        {
            var costs = new List<int>();
            for (var i = 0; i < 5; i++)
                costs.Add(await OnceAsync(limit, warm));
            return costs.Min();
        }

        async Task<int> OnceAsync(int limit, bool warm)
        {
            if (!warm)
                await server.Services.GetRequiredService<Lenta.Server.Platform.Cache.ICache>().ClearAsync();
            await client.GetAsync("api/v1/accounts/verify_credentials", reader.Token); // token cached
            counter.Reset();
            var page = await client.GetAsync($"api/v1/accounts/{author.Id}/statuses?limit={limit}", reader.Token);
            Assert.Equal(limit, page.GetArrayLength());
            return counter.Total;
        }

        Assert.Equal(await CostAsync(2, warm: false), await CostAsync(20, warm: false));
        Assert.Equal(await CostAsync(2, warm: true), await CostAsync(20, warm: true));
        // 9: the eight of a page, and the reader's hidden set (gx:), which says whether the account blocks them.
        Assert.InRange(await CostAsync(20, warm: true), 1, 9);
    }
}
