using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Lenta.Tests.Feed;

/// <summary>kill -9 in the middle of a fan-out: after a restart the job runs again and finishes.</summary>
public sealed class FanOutCrashTests
{
    [Fact]
    public async Task A_fan_out_cut_by_kill_9_finishes_after_restart()
    {
        var data = TempFolder.Create("lenta-fanout-crash");
        var env = new Dictionary<string, string>
        {
            ["Lenta__DataPath"] = data,
            ["Lenta__RateLimits__Enabled"] = "false",
            ["Lenta__Feed__FanOutBatch"] = "5", // slow it down so the kill lands mid-way
            ["Lenta__Feed__FanOutThreshold"] = "50000", // push to all twenty thousand
            ["Lenta__Queue__PollIntervalMs"] = "100",
        };
        Mastodon.User author, reader;
        string postId;
        await using (var first = await ServerProcess.StartAsync(env))
        {
            var client = new Mastodon(first.Http);
            author = await client.SignUpAsync();
            reader = await client.SignUpAsync();
            using (var r = await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token))
                await Mastodon.Ok(r);
            await SeedFollowersAsync(Path.Combine(data, "lenta.db"), long.Parse(author.Id, CultureInfo.InvariantCulture), 20_000);

            using (var r = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = "cut short" })))
                postId = (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
            await Eventually.WaitAsync(() => QueueAsync(first), q => q.Running > 0, TimeSpan.FromSeconds(30), "the fan-out to be running");
            first.Kill9();
        }

        await using (var second = await ServerProcess.StartAsync(env))
        {
            var queue = await Eventually.WaitAsync(() => QueueAsync(second), q => q.Ready + q.Running == 0, TimeSpan.FromSeconds(240), "the fan-out to finish after the restart");
            Assert.Equal(0, queue.Failed);
            var home = await new Mastodon(second.Http).GetAsync("api/v1/timelines/home", reader.Token);
            Assert.Equal([postId], home.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        }
        TempFolder.Delete(data);
    }

    private static async Task<(long Ready, long Running, long Failed)> QueueAsync(ServerProcess server)
    {
        var q = (await server.Http.GetFromJsonAsync<JsonElement>("health/ready")).GetProperty("checks").GetProperty("queue").GetProperty("data");
        return (q.GetProperty("ready").GetInt64(), q.GetProperty("running").GetInt64(), q.GetProperty("failed").GetInt64());
    }

    /// <summary>Another process writing the same SQLite file (WAL): the server's writer waits for the lock as it would for a backup.</summary>
    private static async Task SeedFollowersAsync(string file, long target, int count)
    {
        await using var c = new SqliteConnection($"Data Source={file};Pooling=false;Default Timeout=30");
        await c.OpenAsync();
        await c.ExecuteAsync("PRAGMA busy_timeout=30000");
        await using var tx = await c.BeginTransactionAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var rows = Enumerable.Range(0, count).Select(i => new { id = 1_000_000_000L + i, follow = 2_000_000_000L + i, username = $"seed{i}", target, now });
        await c.ExecuteAsync("INSERT INTO accounts (id, username, username_lower, created_at, updated_at) VALUES (@id, @username, @username, @now, @now)", rows, tx);
        await c.ExecuteAsync("INSERT INTO follows (id, account_id, target_account_id, created_at) VALUES (@follow, @id, @target, @now)", rows, tx);
        await c.ExecuteAsync("INSERT INTO feed_activity (account_id, last_read_at) VALUES (@id, @now)", rows, tx);
        await c.ExecuteAsync("UPDATE accounts SET followers_count = followers_count + @count WHERE id = @target", new { count, target }, tx);
        await tx.CommitAsync();
    }
}
