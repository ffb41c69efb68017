using System.Text.Json;
using Dapper;
using Lenta.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Lenta.Tests.Notifications;

/// <summary>
/// kill -9 between a cause's commit and its notification (docs/ARCHITECTURE.md, Notifications, crash table): the like
/// is acknowledged but not yet folded, the follow's job is written; after a restart both are told, once.
/// </summary>
public sealed class NotificationCrashTests
{
    [Fact]
    public async Task A_like_and_a_follow_acknowledged_before_kill_9_are_told_after_restart()
    {
        var data = TempFolder.Create("lenta-notify-crash");
        var env = new Dictionary<string, string>
        {
            ["Lenta__DataPath"] = data,
            ["Lenta__RateLimits__Enabled"] = "false",
            ["Lenta__Queue__PollIntervalMs"] = "100",
        };
        Mastodon.User author, fan;
        string postId;
        await using (var first = await ServerProcess.StartAsync(env))
        {
            var client = new Mastodon(first.Http);
            author = await client.SignUpAsync();
            fan = await client.SignUpAsync();
            using (var r = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, System.Net.Http.Json.JsonContent.Create(new { status = "like me" })))
                postId = (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
            using (var r = await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", fan.Token))
                await Mastodon.Ok(r);
            using (var r = await client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{postId}/favourite", fan.Token))
                await Mastodon.Ok(r);
            first.Kill9(); // the fold waits a second after a like before it takes it up: it has not run
        }

        await using (var file = new SqliteConnection($"Data Source={Path.Combine(data, "lenta.db")};Pooling=false"))
        {
            // The window was hit: the like is durable but unfolded. Its quick notification (LikeNoticeBatcher, ~0.1 s after
            // the like) may or may not have been written before the kill; either way it must end up told exactly once.
            Assert.Equal(1, await file.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM favourites WHERE folded = 0"));
            Assert.InRange(await file.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM notifications WHERE type = 'favourite'"), 0, 1);
        }

        await using (var second = await ServerProcess.StartAsync(env))
        {
            var client = new Mastodon(second.Http);
            var list = await Eventually.WaitAsync(() => client.GetAsync("api/v1/notifications", author.Token), l => l.GetArrayLength() >= 2,
                TimeSpan.FromSeconds(60), "the notifications after the restart");
            Assert.Equal(["favourite", "follow"], list.EnumerateArray().Select(n => n.GetProperty("type").GetString()));
            Assert.All(list.EnumerateArray(), n => Assert.Equal(fan.Id, n.GetProperty("account").GetProperty("id").GetString()));
            Assert.Equal(postId, list[0].GetProperty("status").GetProperty("id").GetString());
            var queue = await Eventually.WaitAsync(() => QueueAsync(second), q => q.Ready + q.Running == 0, TimeSpan.FromSeconds(60), "every job to finish");
            Assert.Equal(0, queue.Failed);
            Assert.Equal(2, (await client.GetAsync("api/v1/notifications", author.Token)).GetArrayLength()); // told once each
        }
        TempFolder.Delete(data);
    }

    private static async Task<(long Ready, long Running, long Failed)> QueueAsync(ServerProcess server)
    {
        var q = (await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<JsonElement>(server.Http, "health/ready")).GetProperty("checks").GetProperty("queue").GetProperty("data");
        return (q.GetProperty("ready").GetInt64(), q.GetProperty("running").GetInt64(), q.GetProperty("failed").GetInt64());
    }
}
