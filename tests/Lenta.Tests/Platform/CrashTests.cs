using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Lenta.Tests.Platform;

/// <summary>
/// kill -9 of a real server process while it accepts and runs jobs: after a restart on the same data, every job
/// it acknowledged runs (at least once), and the database is intact.
/// </summary>
public abstract class CrashTests(DbProvider provider)
{
    [Fact]
    public async Task No_accepted_job_is_lost_when_the_server_is_killed()
    {
        var data = TempFolder.Create("lenta-crash");
        var env = new Dictionary<string, string>
        {
            ["Lenta__DataPath"] = data,
            ["Lenta__Diagnostics"] = "true",
            ["Lenta__Queue__PollIntervalMs"] = "100",
            ["Lenta__Queue__Concurrency__diag"] = "4",
        };
        if (provider == DbProvider.Postgres)
        {
            env["Lenta__Database__Provider"] = "postgres";
            env["Lenta__Database__ConnectionString"] = await Postgres.CreateDatabaseAsync();
        }

        var accepted = new HashSet<string>();
        await using (var first = await ServerProcess.StartAsync(env))
        {
            // Clients keep submitting while the jobs run slowly; the kill lands mid-stream.
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(async _ =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var response = await first.Http.PostAsync("_diag/jobs?count=2&sleepMs=10", null, stop.Token);
                        if (!response.IsSuccessStatusCode)
                            continue;
                        var body = await response.Content.ReadFromJsonAsync<JsonElement>(stop.Token);
                        lock (accepted)
                        {
                            foreach (var id in body.GetProperty("ids").EnumerateArray())
                                accepted.Add(id.GetString()!);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                    {
                        return; // the server died under us: whatever was not acknowledged may be lost
                    }
                }
            }).ToList();

            await Eventually.WaitAsync(async () => (await RunsAsync(first)).Count, n => n >= 20, TimeSpan.FromSeconds(30), "some jobs to have run");
            first.Kill9();
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }

        int acceptedCount;
        lock (accepted)
            acceptedCount = accepted.Count;
        Assert.True(acceptedCount > 20, $"only {acceptedCount} jobs were accepted before the kill");

        if (provider == DbProvider.Sqlite)
            Assert.Equal("ok", await IntegrityAsync(Path.Combine(data, "lenta.db")));

        await using (var second = await ServerProcess.StartAsync(env))
        {
            var runs = await Eventually.WaitAsync(() => RunsAsync(second), r => accepted.IsSubsetOf(r), TimeSpan.FromSeconds(90), "every accepted job to run after the restart");
            Assert.Superset(accepted, runs.ToHashSet());
            using var ready = await second.Http.GetAsync("health/ready");
            var queue = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("queue").GetProperty("data");
            Assert.Equal(0, queue.GetProperty("failed").GetInt64());
        }
        TempFolder.Delete(data);
    }

    [Fact]
    public async Task No_acknowledged_post_is_lost_when_the_server_is_killed()
    {
        var data = TempFolder.Create("lenta-crash-posts");
        var env = new Dictionary<string, string> { ["Lenta__DataPath"] = data, ["Lenta__RateLimits__Enabled"] = "false" };
        if (provider == DbProvider.Postgres)
        {
            env["Lenta__Database__Provider"] = "postgres";
            env["Lenta__Database__ConnectionString"] = await Postgres.CreateDatabaseAsync();
        }
        var acknowledged = new HashSet<string>();
        Mastodon.User author;
        await using (var first = await ServerProcess.StartAsync(env))
        {
            var client = new Mastodon(first.Http);
            author = await client.SignUpAsync();
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 6).Select(async w =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        using var response = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = $"writer {w} post {i}" }));
                        if (response.IsSuccessStatusCode)
                        {
                            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                            lock (acknowledged)
                                acknowledged.Add(id);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                    {
                        return;
                    }
                }
            }).ToList();
            await Eventually.WaitAsync(() => Task.FromResult(acknowledged.Count), n => n >= 50, TimeSpan.FromSeconds(60), "posts to be acknowledged");
            first.Kill9();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        await using (var second = await ServerProcess.StartAsync(env))
        {
            var client = new Mastodon(second.Http);
            var stored = new HashSet<string>();
            string? maxId = null;
            while (true)
            {
                var page = await client.GetAsync($"api/v1/accounts/{author.Id}/statuses?limit=40{(maxId is null ? "" : "&max_id=" + maxId)}", author.Token);
                if (page.GetArrayLength() == 0)
                    break;
                foreach (var s in page.EnumerateArray())
                    stored.Add(s.GetProperty("id").GetString()!);
                maxId = page[page.GetArrayLength() - 1].GetProperty("id").GetString();
            }
            Assert.Superset(acknowledged, stored);
            var count = (await client.GetAsync($"api/v1/accounts/{author.Id}")).GetProperty("statuses_count").GetInt64();
            Assert.Equal(stored.Count, count); // the counter moved with exactly the posts that committed
        }
        TempFolder.Delete(data);
    }

    [Fact]
    public async Task Every_acknowledged_like_is_counted_exactly_once_after_kill_9()
    {
        var data = TempFolder.Create("lenta-crash-likes");
        var env = new Dictionary<string, string> { ["Lenta__DataPath"] = data, ["Lenta__RateLimits__Enabled"] = "false" };
        string? pg = null;
        if (provider == DbProvider.Postgres)
        {
            pg = await Postgres.CreateDatabaseAsync();
            env["Lenta__Database__Provider"] = "postgres";
            env["Lenta__Database__ConnectionString"] = pg;
        }
        var acknowledged = new HashSet<(string Liker, string Post)>();
        var posts = new List<string>();
        var likers = new List<Mastodon.User>();
        await using (var first = await ServerProcess.StartAsync(env))
        {
            var client = new Mastodon(first.Http);
            var app = await client.RegisterAppAsync();
            var author = await client.SignUpAsync(app: app);
            for (var i = 0; i < 5; i++)
            {
                using var r = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = $"post {i}" }));
                posts.Add((await Mastodon.Ok(r)).GetProperty("id").GetString()!);
            }
            for (var i = 0; i < 12; i++)
                likers.Add(await client.SignUpAsync(app: app));

            var storm = likers.Select(async liker =>
            {
                foreach (var post in posts)
                {
                    try
                    {
                        using var r = await client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{post}/favourite", liker.Token);
                        if (r.IsSuccessStatusCode)
                        {
                            lock (acknowledged)
                                acknowledged.Add((liker.Id, post));
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                    {
                        return;
                    }
                }
            }).ToList();
            await Eventually.WaitAsync(() => Task.FromResult(acknowledged.Count), n => n >= 20, TimeSpan.FromSeconds(60), "likes to be acknowledged");
            first.Kill9();
            await Task.WhenAll(storm);
        }

        await using (var second = await ServerProcess.StartAsync(env))
        {
            var client = new Mastodon(second.Http);
            foreach (var post in posts)
            {
                var likedBy = (await client.GetAsync($"api/v1/statuses/{post}/favourited_by?limit=80")).EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToList();
                Assert.Equal(likedBy.Count, likedBy.Distinct().Count()); // exactly once
                foreach (var (liker, _) in acknowledged.Where(a => a.Post == post))
                    Assert.Contains(liker, likedBy); // nothing acknowledged is lost
                Assert.Equal(likedBy.Count, (await client.GetAsync($"api/v1/statuses/{post}")).GetProperty("favourites_count").GetInt64());
                // The write-behind catches up: the stored count equals the rows.
                await Eventually.WaitAsync(() => StoredCountAsync(data, pg, post), n => n == likedBy.Count, TimeSpan.FromSeconds(30), "the stored count to catch up");
            }
        }
        TempFolder.Delete(data);
    }

    private static async Task<long> StoredCountAsync(string data, string? pg, string post)
    {
        const string sql = "SELECT COALESCE((SELECT favourites_count FROM favourite_counts WHERE status_id = @id), 0)";
        var id = long.Parse(post, System.Globalization.CultureInfo.InvariantCulture);
        if (pg is not null)
        {
            await using var c = new Npgsql.NpgsqlConnection(pg);
            return await Dapper.SqlMapper.ExecuteScalarAsync<long>(c, sql, new { id });
        }
        await using var s = new SqliteConnection($"Data Source={Path.Combine(data, "lenta.db")};Mode=ReadOnly;Pooling=false");
        return await Dapper.SqlMapper.ExecuteScalarAsync<long>(s, sql, new { id });
    }

    private static async Task<HashSet<string>> RunsAsync(ServerProcess server) =>
        (await server.Http.GetFromJsonAsync<JsonElement>("_diag/jobs/runs")).EnumerateArray().Select(r => r.GetProperty("job_id").GetString()!).ToHashSet();

    private static async Task<string> IntegrityAsync(string file)
    {
        await using var c = new SqliteConnection($"Data Source={file};Pooling=false");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
}

public sealed class SqliteCrashTests() : CrashTests(DbProvider.Sqlite);

public sealed class PostgresCrashTests() : CrashTests(DbProvider.Postgres);
