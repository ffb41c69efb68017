using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Lenta.Tests.Infrastructure;
using Lenta.Tests.Media;

namespace Lenta.Tests.Cluster;

/// <summary>
/// Lenta as deployed: the local cluster of scripts/cluster.sh (nginx with deploy/nginx/lenta.conf in front of two read
/// nodes, a write node and a worker on PostgreSQL, Redis, RabbitMQ and S3), driven through the front over HTTP, then the
/// fault drills, each under a compose + like + read load and each ending with nothing acknowledged lost.
/// </summary>
public sealed class ClusterTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_post_written_through_the_write_pool_is_read_through_either_read_node_at_once()
    {
        cluster.Require();
        using var http = cluster.Client();
        var client = new Mastodon(http);
        var author = await cluster.SignUpAsync();
        using var posted = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "through the front" }));
        var id = (await Mastodon.Ok(posted)).GetProperty("id").GetString()!;
        foreach (var node in new[] { 1, 2 })
        {
            using var direct = ClusterFixture.From(cluster.ReadNode(node), IPAddress.Loopback);
            var status = await new Mastodon(direct).GetAsync($"api/v1/statuses/{id}", author.Token);
            Assert.Equal("<p>through the front</p>", status.GetProperty("content").GetString());
        }
        // The pools really are split: a read node has no write routes.
        using var readNode = ClusterFixture.From(cluster.ReadNode(1), IPAddress.Loopback);
        using var refused = await new Mastodon(readNode).SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "x" }));
        Assert.False(refused.IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_photo_uploaded_through_the_front_is_processed_by_the_worker_and_served_through_the_edge_cache()
    {
        cluster.Require();
        using var http = cluster.Client(timeout: TimeSpan.FromMinutes(2));
        var client = new Mastodon(http);
        var user = await cluster.SignUpAsync();
        using var image = TestImages.Noise(800, 600);
        var file = new ByteArrayContent(image.JpegsaveBuffer());
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var upload = await client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, new MultipartFormDataContent { { file, "file", "p.jpg" } });
        var id = (await Mastodon.Ok(upload)).GetProperty("id").GetString()!;
        var (status, body) = await Eventually.WaitAsync(async () =>
        {
            using var r = await client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
        }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(60), "the worker to process the photo");
        Assert.True(status == HttpStatusCode.OK, body);
        var url = new Uri(JsonDocument.Parse(body).RootElement.GetProperty("url").GetString()!);
        Assert.Equal(cluster.Front.Authority, url.Authority); // media links point at the front (Lenta__PublicUrl)
        Assert.StartsWith("/system/", url.AbsolutePath, StringComparison.Ordinal);

        using var first = await http.GetAsync(url);
        var bytes = await first.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("image/jpeg", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal("MISS", Assert.Single(first.Headers.GetValues("X-Cache-Status")));
        using var second = await http.GetAsync(url);
        Assert.Equal("HIT", Assert.Single(second.Headers.GetValues("X-Cache-Status")));
        Assert.Equal(bytes, await second.Content.ReadAsByteArrayAsync());

        // A range is answered as a range, from the edge.
        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(10, 109);
        using var part = await http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[10..110], await part.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_websocket_through_nginx_receives_a_followed_authors_post()
    {
        cluster.Require();
        using var http = cluster.Client();
        var client = new Mastodon(http);
        var author = await cluster.SignUpAsync();
        var reader = await cluster.SignUpAsync();
        await Mastodon.Ok(await client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token));

        using var socket = new ClientWebSocket();
        var ws = new UriBuilder(cluster.Front) { Scheme = "ws", Path = "/api/v1/streaming", Query = $"stream=user&access_token={reader.Token}" }.Uri;
        using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(ws, connecting.Token);

        // The subscription holds once the node has subscribed on the Redis bus: post until one arrives.
        var received = new List<string>();
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (socket.State == WebSocketState.Open)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult r;
                do
                {
                    r = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, r.Count);
                }
                while (!r.EndOfMessage);
                if (r.MessageType == WebSocketMessageType.Close)
                    return;
                lock (received)
                    received.Add(Encoding.UTF8.GetString(message.ToArray()));
            }
        });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? arrived = null;
        while (arrived is null && DateTime.UtcNow < deadline)
        {
            using var posted = await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "streamed" }));
            var id = (await Mastodon.Ok(posted)).GetProperty("id").GetString()!;
            var until = DateTime.UtcNow.AddSeconds(5);
            while ((arrived = Find(received, id)) is null && DateTime.UtcNow < until)
                await Task.Delay(50);
        }
        Assert.NotNull(arrived);
        var update = JsonDocument.Parse(arrived).RootElement;
        Assert.Equal("update", update.GetProperty("event").GetString());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await receiving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static string? Find(List<string> messages, string postId)
    {
        lock (messages)
            return messages.FirstOrDefault(m => m.Contains("\"update\"", StringComparison.Ordinal) && m.Contains(postId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rate_limits_key_on_the_client_address_nginx_forwards_and_a_forged_header_changes_nothing()
    {
        cluster.Require();
        // Two clients on addresses of their own (all of 127/8 is loopback): sign-ups are limited to 5 per address.
        using var first = cluster.Client(IPAddress.Parse("127.0.2.2"));
        using var second = cluster.Client(IPAddress.Parse("127.0.2.3"));
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, await SignUpStatusAsync(first, null));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SignUpStatusAsync(first, null));
        // nginx appends the address the connection came from; Lenta reads the chain from the right over trusted
        // proxies only, so a forged address to the left of it does not reset the count.
        Assert.Equal(HttpStatusCode.TooManyRequests, await SignUpStatusAsync(first, "10.9.8.7"));
        Assert.Equal(HttpStatusCode.OK, await SignUpStatusAsync(second, null));
    }

    private static async Task<HttpStatusCode> SignUpStatusAsync(HttpClient http, string? forwardedFor)
    {
        var client = new Mastodon(http);
        var appToken = await client.AppTokenAsync(await client.RegisterAppAsync(), "write");
        var username = "u" + Guid.NewGuid().ToString("N")[..12];
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/accounts")
        {
            Content = JsonContent.Create(new { username, email = $"{username}@example.com", password = "correct horse battery", agreement = true, locale = "en" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", appToken);
        if (forwardedFor is not null)
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Drill_kill9_of_a_read_node_nginx_moves_on_and_nothing_is_lost()
    {
        cluster.Require();
        var load = await ClusterLoad.StartAsync(cluster);
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts before the fault");
        await cluster.RunOkAsync("kill9", "read1");
        await load.AwaitProgressAsync(20, TimeSpan.FromSeconds(60), "posts with one read node dead");
        await cluster.RunOkAsync("start", "read1");
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts with the node back");
        await load.StopAsync();
        // Writes never touch a read node; reads in flight on the killed node are retried on the other by nginx.
        Assert.True(load.Failures.Count(f => f.Kind == "read") <= 5 && load.Failures.All(f => f.Kind == "read"), load.ToString());
        await load.VerifyNothingLostAsync();
    }

    [Fact]
    public async Task Drill_kill9_of_the_worker_mid_job_its_jobs_are_redelivered_and_nothing_is_lost()
    {
        cluster.Require();
        var load = await ClusterLoad.StartAsync(cluster);
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts before the fault");
        await cluster.RunOkAsync("kill9", "worker");   // fan-out jobs arrive every ~50 ms: some are mid-run
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts with no worker");
        await cluster.RunOkAsync("start", "worker");
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts with the worker back");
        await load.StopAsync();
        Assert.True(load.Failures.Count == 0, load.ToString());   // the API nodes never needed the worker
        await load.VerifyNothingLostAsync();
    }

    [Fact]
    public async Task Drill_redis_restarted_empty_timelines_are_rebuilt_and_nothing_is_lost()
    {
        cluster.Require();
        var load = await ClusterLoad.StartAsync(cluster);
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts before the fault");
        await cluster.RunOkAsync("restart", "redis");
        await load.AwaitProgressAsync(20, TimeSpan.FromSeconds(60), "posts after Redis came back empty");
        await load.StopAsync();
        AssertOnlyRetryableRefusals(load);
        await load.VerifyNothingLostAsync();
    }

    [Fact]
    public async Task Drill_rabbitmq_restarted_the_outbox_holds_the_jobs_and_nothing_is_lost()
    {
        cluster.Require();
        var load = await ClusterLoad.StartAsync(cluster);
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts before the fault");
        await cluster.RunOkAsync("restart", "rabbitmq");
        await load.AwaitProgressAsync(20, TimeSpan.FromSeconds(90), "posts after the broker came back");
        await load.StopAsync();
        AssertOnlyRetryableRefusals(load);
        await load.VerifyNothingLostAsync();
    }

    [Fact]
    public async Task Drill_postgresql_restarted_requests_meanwhile_get_503_with_retry_after_and_service_returns_by_itself()
    {
        cluster.Require();
        var load = await ClusterLoad.StartAsync(cluster);
        await load.AwaitProgressAsync(10, TimeSpan.FromSeconds(60), "posts before the fault");
        await cluster.RunOkAsync("restart", "postgres");
        // No Lenta process is restarted: their pools reconnect by themselves.
        await load.AwaitProgressAsync(20, TimeSpan.FromSeconds(60), "posts after PostgreSQL came back");
        await load.StopAsync();
        AssertOnlyRetryableRefusals(load);
        await load.VerifyNothingLostAsync();
    }

    /// <summary>During a store's outage a request may be refused with 503 and Retry-After; never a 500, a hang or a dropped connection.</summary>
    private void AssertOnlyRetryableRefusals(ClusterLoad load)
    {
        if (load.Failures.All(ClusterLoad.IsUnavailable))
            return;
        Assert.Fail($"{load}\n{cluster.LoggedErrors(load.Failures.Select(f => f.Detail))}");
    }
}
