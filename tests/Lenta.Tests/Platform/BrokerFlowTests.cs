using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lenta.Tests.Infrastructure;
using Lenta.Tests.Media;
using Npgsql;

namespace Lenta.Tests.Platform;

/// <summary>
/// The distributed form end to end over HTTP: PostgreSQL, Redis, RabbitMQ and S3, with the API and the workers in processes
/// of their own. Posts and uploads accepted by the API process are
/// fanned out and processed by whichever worker takes their jobs from the broker; a broker restart under load and a
/// worker killed mid-transcode lose nothing.
/// </summary>
public sealed class BrokerFlowTests
{
    /// <summary>PostgreSQL + Redis + RabbitMQ + S3 settings for one test; every process of the test gets the same.</summary>
    private static Task<Dictionary<string, string?>> SettingsAsync(string amqp) => Distributed.SettingsAsync(amqp);

    /// <summary>The same settings as a separate process's environment, with its own data folder, roles and node number.</summary>
    private static Dictionary<string, string> Env(Dictionary<string, string?> settings, string data, string roles, int node)
    {
        var env = Distributed.Env(Distributed.With(settings, roles, node));
        env["Lenta__DataPath"] = data;
        return env;
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings, string roles, int node) => Distributed.With(settings, roles, node);

    [Fact]
    public async Task Posts_and_uploads_accepted_by_the_api_process_are_fanned_out_and_processed_by_a_separate_worker_process()
    {
        var settings = await SettingsAsync(RabbitMq.Uri);
        var data = TempFolder.Create("lenta-broker");
        try
        {
            await using var api = await TestServer.StartAsync(With(settings, "write-api,read-api", 1), data);
            var client = new Mastodon(api.Http);
            var author = await client.SignUpAsync();
            var follower = await client.SignUpAsync();
            await Mastodon.Ok(await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", follower.Token));
            Assert.Empty((await client.GetAsync("api/v1/timelines/home", follower.Token)).EnumerateArray()); // now cached, and empty

            var post = await PostAsync(client, author, "composed on the API node");
            var photo = await UploadAsync(client, author, Photo(), "photo.jpg", "image/jpeg");
            var clip = await VideoUploadTests.ClipAsync(320, 240, 2);
            var video = await UploadAsync(client, author, clip, "clip.mp4", "video/mp4");
            var cut = await UploadAsync(client, author, clip[..(clip.Length / 3)], "cut.mp4", "video/mp4");

            // No process has the worker role yet: the jobs wait on the broker.
            await Task.Delay(1500);
            Assert.DoesNotContain(post, await HomeIdsAsync(client, follower));
            Assert.Equal(HttpStatusCode.PartialContent, (await client.SendAsync(HttpMethod.Get, $"api/v1/media/{photo}", author.Token)).StatusCode);

            await using var worker = await ServerProcess.StartAsync(Env(settings, data, "worker", 2));
            await Eventually.WaitAsync(() => HomeIdsAsync(client, follower), ids => ids.Contains(post), TimeSpan.FromSeconds(30), "the worker process to fan the post out");
            foreach (var media in new[] { photo, video })
            {
                var ready = await ReadyAsync(client, author, media);
                using var served = await api.Http.GetAsync(ready.GetProperty("url").GetString());
                Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            }

            // An upload that can never become a video ends failed, with its reason, through the API; its job gave up.
            var (status, body) = await Eventually.WaitAsync(async () =>
            {
                using var r = await client.SendAsync(HttpMethod.Get, $"api/v1/media/{cut}", author.Token);
                return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
            }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(60), "the cut video to end");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Contains("Video", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);

            // A post composed now travels the same way, and the API node's readiness names the broker.
            var second = await PostAsync(client, author, "and another");
            await Eventually.WaitAsync(() => HomeIdsAsync(client, follower), ids => ids.Contains(second), TimeSpan.FromSeconds(30), "the second post's fan-out");
            await Eventually.WaitAsync(() => JobRowsAsync(settings), n => n == 1, TimeSpan.FromSeconds(30), "every job but the failed one to be acknowledged");
            // The cut video's job, kept with its reason: the media's failure is written before its job's row is marked failed.
            var queue = await Eventually.WaitAsync(async () => (await client.GetAsync("health/ready")).GetProperty("checks").GetProperty("queue"),
                q => q.GetProperty("data").GetProperty("failed").GetInt64() == 1, TimeSpan.FromSeconds(30), "the cut video's job to be kept as failed");
            Assert.Equal("ok", queue.GetProperty("status").GetString());
        }
        finally
        {
            TempFolder.Delete(data);
        }
    }

    [Fact]
    public async Task A_broker_restart_under_compose_and_upload_load_loses_no_post_and_no_upload()
    {
        var posts = new List<string>();
        var uploads = new List<(Mastodon.User Author, string Id)>();
        await using var broker = await PrivateRabbitMq.StartAsync();
        var settings = await SettingsAsync(broker.Uri);
        settings["Lenta:Feed:TimelineSize"] = "2000"; // above what the load composes, so every post stays in every home
        // One process of all roles: its objects stay on disk, as this test ran before the split-role tests moved to S3.
        foreach (var key in settings.Keys.Where(k => k.StartsWith("Lenta:ObjectStore:", StringComparison.Ordinal)).ToList())
            settings.Remove(key);
        await using var server = await TestServer.StartAsync(settings);
        var client = new Mastodon(server.Http);
        var authors = new List<Mastodon.User>();
        var followers = new List<Mastodon.User>();
        for (var i = 0; i < 2; i++)
            authors.Add(await client.SignUpAsync());
        for (var i = 0; i < 4; i++)
        {
            var f = await client.SignUpAsync();
            foreach (var a in authors)
                await Mastodon.Ok(await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{a.Id}/follow", f.Token));
            await client.GetAsync("api/v1/timelines/home", f.Token); // cached: from now on only fan-out adds to it
            followers.Add(f);
        }

        using var stop = new CancellationTokenSource();
        var photo = Photo();
        var load = authors.Select(a => Task.Run(async () =>
        {
            for (var n = 0; n < 400 && !stop.IsCancellationRequested; n++)
            {
                using var r = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", a.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "under load" }));
                Assert.True(r.IsSuccessStatusCode, $"compose answered {(int)r.StatusCode} while the broker restarted");
                var id = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                lock (posts)
                    posts.Add(id);
                await Task.Delay(100);
            }
        })).Append(Task.Run(async () =>
        {
            for (var n = 0; n < 100 && !stop.IsCancellationRequested; n++)
            {
                var a = authors[Random.Shared.Next(authors.Count)];
                var id = await UploadAsync(client, a, photo, "photo.jpg", "image/jpeg");
                lock (uploads)
                    uploads.Add((a, id));
                await Task.Delay(400);
            }
        })).ToList();

        await Eventually.WaitAsync(() => Task.FromResult(Count(posts)), n => n >= 30, TimeSpan.FromSeconds(30), "some posts before the restart");
        var restart = Stopwatch.StartNew();
        var restarting = broker.RestartAsync();
        // While the broker is away the node is not ready, and says which store is missing; composing goes on.
        var unready = await Eventually.WaitAsync(async () =>
        {
            using var r = await server.Http.GetAsync("health/ready");
            return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
        }, x => x.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30), "readiness to report the broker gone");
        Assert.Equal("unavailable", JsonDocument.Parse(unready.Body).RootElement.GetProperty("checks").GetProperty("queue").GetProperty("status").GetString());
        await restarting;
        restart.Stop();
        // The client reconnects by itself; the jobs accepted meanwhile wait in the outbox.
        await Eventually.WaitAsync(async () => (await server.Http.GetAsync("health/ready")).StatusCode, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "the broker connection to recover");
        var atRecovery = Count(posts);
        await Eventually.WaitAsync(() => Task.FromResult(Count(posts)), n => n >= atRecovery + 20, TimeSpan.FromSeconds(30), "more posts after the restart");
        await stop.CancelAsync();
        await Task.WhenAll(load);
        Assert.True(restart.Elapsed > TimeSpan.FromSeconds(1), $"the restart took only {restart.Elapsed}");

        await Eventually.WaitAsync(() => JobRowsAsync(settings), n => n == 0, TimeSpan.FromSeconds(120), "the outbox and every queue to drain");
        foreach (var f in followers)
        {
            var home = await AllHomeIdsAsync(client, f);
            var missing = posts.Where(p => !home.Contains(p)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of {posts.Count} acknowledged posts are missing from a follower's home");
        }
        foreach (var (a, id) in uploads)
            await ReadyAsync(client, a, id);
        Assert.True(uploads.Count >= 5, $"only {uploads.Count} uploads were made");
    }

    [Fact]
    public async Task A_worker_killed_mid_transcode_hands_the_video_to_another_worker_which_finishes_it_without_stray_objects()
    {
        var settings = await SettingsAsync(RabbitMq.Uri);
        var data = TempFolder.Create("lenta-broker-kill");
        try
        {
            await using var api = await TestServer.StartAsync(With(settings, "write-api,read-api", 1), data);
            var client = new Mastodon(api.Http);
            var author = await client.SignUpAsync();
            var clip = await VideoUploadTests.ClipAsync(1280, 720, 8);

            string media;
            await using (var first = await ServerProcess.StartAsync(Env(settings, data, "worker", 2)))
            {
                media = await UploadAsync(client, author, clip, "long.mp4", "video/mp4");
                await Eventually.WaitAsync(() => Task.FromResult(first.HasChild("ffmpeg")), running => running, TimeSpan.FromSeconds(60), "the first worker to start transcoding");
                await Task.Delay(300);
                first.Kill9();
            }
            Assert.Equal(HttpStatusCode.PartialContent, (await client.SendAsync(HttpMethod.Get, $"api/v1/media/{media}", author.Token)).StatusCode);

            await using var second = await ServerProcess.StartAsync(Env(settings, data, "worker", 3));
            var ready = await ReadyAsync(client, author, media, TimeSpan.FromSeconds(180));

            // One attempt's objects, the finished one's: the killed attempt wrote none, or they were deleted.
            var keys = await S3.KeysAsync(settings["Lenta:ObjectStore:ProcessedBucket"]!);
            var attempts = keys.Where(k => k.StartsWith($"media/{media}/", StringComparison.Ordinal)).Select(k => k.Split('/')[2]).Distinct().ToList();
            var only = Assert.Single(attempts);
            Assert.Contains($"/{only}/", ready.GetProperty("url").GetString(), StringComparison.Ordinal);
            Assert.Contains($"/{only}/", ready.GetProperty("preview_url").GetString(), StringComparison.Ordinal);
            // The job's row goes once the worker acknowledges it, just after the media turned ready.
            await Eventually.WaitAsync(() => JobRowsAsync(settings), n => n == 0, TimeSpan.FromSeconds(30), "the video job to be acknowledged");
        }
        finally
        {
            TempFolder.Delete(data);
        }
    }

    private static int Count<T>(List<T> list)
    {
        lock (list)
            return list.Count;
    }

    private static async Task<string> PostAsync(Mastodon client, Mastodon.User author, string text)
    {
        using var r = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = text }));
        return (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
    }

    private static async Task<string> UploadAsync(Mastodon client, Mastodon.User user, byte[] bytes, string name, string type)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        form.Add(file, "file", name);
        using var r = await client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, form);
        return (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> ReadyAsync(Mastodon client, Mastodon.User user, string id, TimeSpan? within = null)
    {
        var (status, body) = await Eventually.WaitAsync(async () =>
        {
            using var r = await client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return (r.StatusCode, Body: JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone());
        }, x => x.StatusCode != HttpStatusCode.PartialContent, within ?? TimeSpan.FromSeconds(90), $"media {id} to be processed");
        Assert.True(status == HttpStatusCode.OK, $"media {id} ended {(int)status}: {body}");
        return body;
    }

    private static async Task<List<string>> HomeIdsAsync(Mastodon client, Mastodon.User user) =>
        (await client.GetAsync("api/v1/timelines/home?limit=40", user.Token)).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    /// <summary>Every post of the home timeline, page by page (max_id), newest first.</summary>
    private static async Task<HashSet<string>> AllHomeIdsAsync(Mastodon client, Mastodon.User user)
    {
        var ids = new HashSet<string>();
        string? maxId = null;
        while (true)
        {
            var page = (await client.GetAsync($"api/v1/timelines/home?limit=40{(maxId is null ? "" : "&max_id=" + maxId)}", user.Token)).EnumerateArray()
                .Select(s => s.GetProperty("id").GetString()!).ToList();
            if (page.Count == 0)
                return ids;
            ids.UnionWith(page);
            maxId = page[^1];
        }
    }

    /// <summary>Rows left in the jobs table: the outbox, jobs on the broker or running, and failed ones. Zero once all finished.</summary>
    private static async Task<long> JobRowsAsync(Dictionary<string, string?> settings)
    {
        await using var connection = new NpgsqlConnection(settings["Lenta:Database:ConnectionString"]);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM jobs", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static byte[] Photo()
    {
        using var image = NetVips.Image.Black(640, 480, bands: 3) + new double[] { 40, 120, 200 };
        using var cast = image.Cast(NetVips.Enums.BandFormat.Uchar);
        return cast.JpegsaveBuffer(q: 85);
    }

}
