using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Lenta.Server.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Streaming;

/// <summary>
/// Mastodon's streaming API over real WebSockets and server-sent events (docs.joinmastodon.org/methods/streaming):
/// frames carry the stream, the event and the payload as a JSON string; a viewer receives only what they may see.
/// </summary>
public abstract class StreamingTests(ServerFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>One warm-up delivery per server, shared by its tests.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ServerFixture, Task> Warm = [];

    /// <summary>
    /// The tests hold deliveries to a second, a promise about a running server. A fresh server's first delivery also
    /// compiles the whole path on every node it crosses (in front mode: nginx, a Write node, a worker, a Read node), which
    /// on a loaded machine can take longer; so each server first carries one post to a follower's stream, unhurried.
    /// </summary>
    public ValueTask InitializeAsync() => new(Warm.GetValue(fixture, _ => WarmUpAsync()));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task WarmUpAsync()
    {
        var reader = await Client.SignUpAsync();
        var writer = await Client.SignUpAsync();
        await FollowAsync(reader, writer);
        await using var stream = await UserStreamAsync(reader);
        var id = await PostAsync(writer, "warming up");
        await stream.NextAsync(UpdateOf("user", id), TimeSpan.FromSeconds(30), "the warm-up post");
    }

    private Mastodon Client => fixture.Client;

    private Uri Address => fixture.Server.Address;

    private Task<string> PostAsync(Mastodon.User user, string text = "hello", string visibility = "public") => Client.PostAsync(user, text, visibility);

    private async Task OkAsync(HttpMethod method, string path, string token)
    {
        using var r = await Client.SendAsync(method, path, token);
        await Mastodon.Ok(r);
    }

    private Task FollowAsync(Mastodon.User who, Mastodon.User whom) => Client.FollowAsync(who, whom);

    private Task<StreamClient> UserStreamAsync(Mastodon.User user, string stream = "user") =>
        StreamClient.ConnectAsync(Address, $"access_token={user.Token}&stream={stream}");

    private static Func<JsonElement, bool> UpdateOf(string stream, string statusId) =>
        f => StreamClient.Is(f, "update", stream) && StreamClient.Payload(f).GetProperty("id").GetString() == statusId;

    [Fact]
    public async Task A_followed_accounts_post_arrives_as_update_rendered_for_the_viewer()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        await FollowAsync(alice, bob);
        await using var stream = await UserStreamAsync(alice);

        var clock = Stopwatch.StartNew();
        var id = await PostAsync(bob, "hello followers");
        var frame = await stream.NextAsync(UpdateOf("user", id), Second, "bob's post");
        Assert.True(clock.Elapsed < Second, $"took {clock.ElapsedMilliseconds} ms");

        Assert.Equal(JsonValueKind.String, frame.GetProperty("payload").ValueKind);
        Assert.Equal(["user"], frame.GetProperty("stream").EnumerateArray().Select(e => e.GetString()));
        var status = StreamClient.Payload(frame);
        // As the REST API renders it for alice.
        var rest = await Client.GetAsync($"api/v1/statuses/{id}", alice.Token);
        Assert.Equal(rest.GetProperty("uri").GetString(), status.GetProperty("uri").GetString());
        Assert.Equal(rest.GetProperty("account").GetProperty("id").GetString(), status.GetProperty("account").GetProperty("id").GetString());
        Assert.False(status.GetProperty("favourited").GetBoolean());

        // Each process counts its own sockets and deliveries: behind the front (front mode) the socket is on one of two
        // read nodes and the diagnostics request may reach the other, so the figures are added up over every node.
        var diag = await Client.GetAsync("_diag/streaming");
        var nodes = fixture.Server.Nodes.Select(n => n.GetService<StreamingMetrics>()).OfType<StreamingMetrics>().ToList();
        if (fixture.Server.Nodes.Count == 1)
        {
            Assert.True(diag.GetProperty("open_sockets").GetDouble() >= 1);
            Assert.True(diag.GetProperty("delivered").GetDouble() >= 1);
        }
        Assert.True(diag.TryGetProperty("open_sockets", out _));
        Assert.True(nodes.Sum(m => m.OpenSockets) >= 1);
        Assert.True(nodes.Sum(m => m.Delivered) >= 1);
    }

    [Fact]
    public async Task A_follow_and_a_like_arrive_as_notifications()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var mine = await PostAsync(alice, "like me");
        await using var stream = await UserStreamAsync(alice, "user:notification");

        var clock = Stopwatch.StartNew();
        await FollowAsync(bob, alice);
        var follow = await stream.NextAsync(f => StreamClient.Is(f, "notification", "user:notification"), Second, "the follow notification");
        Assert.True(clock.Elapsed < Second, $"the follow's notification took {clock.ElapsedMilliseconds} ms");
        Assert.Equal("follow", StreamClient.Payload(follow).GetProperty("type").GetString());
        Assert.Equal(bob.Id, StreamClient.Payload(follow).GetProperty("account").GetProperty("id").GetString());

        // A like is told by the quick path (LikeNoticeBatcher), not after the write-behind's fold about a second later.
        clock.Restart();
        await OkAsync(HttpMethod.Post, $"api/v1/statuses/{mine}/favourite", bob.Token);
        var like = await stream.NextAsync(f => StreamClient.Is(f, "notification", "user:notification") && StreamClient.Payload(f).GetProperty("type").GetString() == "favourite",
            TimeSpan.FromSeconds(3), "the like notification");
        Assert.Equal(mine, StreamClient.Payload(like).GetProperty("status").GetProperty("id").GetString());
        Assert.True(clock.Elapsed < Second, $"the like's notification took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_delete_arrives_with_the_id_as_payload()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        await FollowAsync(alice, bob);
        var id = await PostAsync(bob, "soon gone");
        await using var stream = await UserStreamAsync(alice);

        var clock = Stopwatch.StartNew();
        await OkAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", bob.Token);
        var frame = await stream.NextAsync(f => StreamClient.Is(f, "delete", "user"), Second, "the delete");
        Assert.True(clock.Elapsed < Second, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(id, frame.GetProperty("payload").GetString());
    }

    [Fact]
    public async Task An_edit_arrives_as_status_update_with_the_new_version()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        await FollowAsync(alice, bob);
        var id = await PostAsync(bob, "first words");
        await using var stream = await UserStreamAsync(alice);

        var clock = Stopwatch.StartNew();
        using (var r = await Client.SendAsync(HttpMethod.Put, $"api/v1/statuses/{id}", bob.Token,
                   new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "second thoughts" })))
            await Mastodon.Ok(r);
        var frame = await stream.NextAsync(f => StreamClient.Is(f, "status.update", "user"), Second, "the edit");
        Assert.True(clock.Elapsed < Second, $"took {clock.ElapsedMilliseconds} ms");
        var status = StreamClient.Payload(frame);
        Assert.Equal(id, status.GetProperty("id").GetString());
        Assert.Contains("second thoughts", status.GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, status.GetProperty("edited_at").ValueKind);
    }

    [Fact]
    public async Task The_token_in_the_subprotocol_header_is_accepted_and_echoed()
    {
        var alice = await Client.SignUpAsync();
        await using var stream = await StreamClient.ConnectAsync(Address, "", o => o.AddSubProtocol(alice.Token), path: "api/v1/streaming/");
        Assert.Equal(alice.Token, stream.Socket.SubProtocol);

        await stream.SendAsync(new { type = "subscribe", stream = "user" });
        await stream.SendAsync(new { type = "subscribe", stream = "no-such-stream" });
        var error = await stream.NextAsync(f => f.TryGetProperty("error", out _), Second, "an error for the unknown stream");
        Assert.Equal(400, error.GetProperty("status").GetInt32());
        var id = await PostAsync(alice, "my own");
        await stream.NextAsync(UpdateOf("user", id), Second, "my own post");

        await stream.SendAsync(new { type = "unsubscribe", stream = "user" });
        await stream.SendAsync(new { type = "subscribe", stream = "public" });
        var next = await PostAsync(alice, "on public only");
        var frame = await stream.NextAsync(f => StreamClient.Is(f, "update", "public") || StreamClient.Is(f, "update", "user") && StreamClient.Payload(f).GetProperty("id").GetString() == next,
            Second, "the next post");
        Assert.Equal("public", frame.GetProperty("stream")[0].GetString());
    }

    [Theory]
    [InlineData("access_token=nope&stream=user")]
    [InlineData("stream=user")]
    [InlineData("stream=public")]
    public async Task A_bad_or_missing_token_is_refused_with_401_before_the_upgrade(string query)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var uri = new UriBuilder(new Uri(Address, "api/v1/streaming")) { Scheme = "ws", Query = query }.Uri;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);

        using var sse = new HttpRequestMessage(HttpMethod.Get, "api/v1/streaming/public?" + query);
        using var response = await Client.Http.SendAsync(sse);
        Assert.False(string.IsNullOrEmpty(await Mastodon.ErrorAsync(response, HttpStatusCode.Unauthorized)));
    }

    [Fact]
    public async Task A_private_post_reaches_only_followers_user_streams_and_no_public_stream()
    {
        var author = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        await FollowAsync(follower, author);
        await using var followerUser = await UserStreamAsync(follower);
        await using var followerPublic = await UserStreamAsync(follower, "public");
        await using var strangerPublic = await UserStreamAsync(stranger, "public");
        await using var strangerUser = await UserStreamAsync(stranger);

        var secret = await PostAsync(author, "followers only", "private");
        await followerUser.NextAsync(UpdateOf("user", secret), Second, "the private post for the follower");
        // Posts of one author are delivered in order: once the public marker is there, anything before it would be too.
        var marker = await PostAsync(author, "public marker");
        await followerUser.NextAsync(UpdateOf("user", marker), Second, "the marker on the follower's user stream");
        await followerPublic.NextAsync(UpdateOf("public", marker), Second, "the marker on the follower's public stream");
        await strangerPublic.NextAsync(UpdateOf("public", marker), Second, "the marker on the stranger's public stream");

        var leaked = followerPublic.Drain().Concat(strangerPublic.Drain()).Concat(strangerUser.Drain()).Concat(followerUser.Drain())
            .Where(f => f.TryGetProperty("event", out _) && f.GetProperty("event").GetString() == "update")
            .Select(f => StreamClient.Payload(f).GetProperty("id").GetString())
            .Where(id => id == secret)
            .ToList();
        Assert.Empty(leaked);
    }

    [Fact]
    public async Task A_boost_reaches_the_boosters_followers_with_the_original_inside_and_no_public_stream()
    {
        var author = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        await FollowAsync(follower, booster);
        var id = await PostAsync(author, "worth a boost");
        await using var user = await UserStreamAsync(follower);
        await using var pub = await UserStreamAsync(follower, "public");

        using var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/reblog", booster.Token);
        var boost = (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
        var frame = await user.NextAsync(UpdateOf("user", boost), TimeSpan.FromSeconds(5), "the boost on the follower's user stream");
        var status = StreamClient.Payload(frame);
        Assert.Equal(booster.Id, status.GetProperty("account").GetProperty("id").GetString());
        Assert.Equal(id, status.GetProperty("reblog").GetProperty("id").GetString());
        Assert.False(status.GetProperty("reblog").GetProperty("reblogged").GetBoolean());

        var marker = await PostAsync(booster, "public marker");
        await pub.NextAsync(UpdateOf("public", marker), TimeSpan.FromSeconds(5), "the marker on the public stream");
        Assert.DoesNotContain(pub.Drain().Where(f => f.TryGetProperty("event", out _) && f.GetProperty("event").GetString() == "update"),
            f => StreamClient.Payload(f).GetProperty("id").GetString() == boost);
    }

    [Fact]
    public async Task Boosts_of_an_account_followed_with_reblogs_false_never_reach_the_user_stream_but_its_posts_do()
    {
        var author = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        await Mastodon.Ok(await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{booster.Id}/follow", follower.Token, JsonContent.Create(new { reblogs = false })));
        var id = await PostAsync(author, "boosted past the follower");
        await using var user = await UserStreamAsync(follower);

        using var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/reblog", booster.Token);
        var boost = (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
        var own = await PostAsync(booster, "the booster's own post");
        await user.NextAsync(UpdateOf("user", own), TimeSpan.FromSeconds(5), "the booster's own post on the user stream");
        await Task.Delay(300); // events are offered in the order published; give the boost time to show if it would
        Assert.DoesNotContain(user.Drain().Where(f => f.TryGetProperty("event", out _) && f.GetProperty("event").GetString() == "update"),
            f => StreamClient.Payload(f).GetProperty("id").GetString() == boost);
    }

    [Fact]
    public async Task Posts_of_a_muted_or_blocked_account_never_reach_the_viewers_streams()
    {
        var viewer = await Client.SignUpAsync();
        var muted = await Client.SignUpAsync();
        var blocked = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        foreach (var a in new[] { muted, blocked, other })
            await FollowAsync(viewer, a);
        await Mastodon.Ok(await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{muted.Id}/mute", viewer.Token));
        await Mastodon.Ok(await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{blocked.Id}/block", viewer.Token));
        await using var user = await UserStreamAsync(viewer);
        await using var pub = await UserStreamAsync(viewer, "public");

        var fromMuted = await PostAsync(muted, "muted speaks");
        var fromBlocked = await PostAsync(blocked, "blocked speaks");
        var marker = await PostAsync(other, "a post the viewer sees");
        await user.NextAsync(UpdateOf("user", marker), Second, "the other account's post on the user stream");
        await pub.NextAsync(UpdateOf("public", marker), Second, "the other account's post on the public stream");
        await Task.Delay(300); // events are offered in the order published; give the earlier two time to show if they would
        var leaked = user.Drain().Concat(pub.Drain())
            .Where(f => f.TryGetProperty("event", out _) && f.GetProperty("event").GetString() == "update")
            .Select(f => StreamClient.Payload(f).GetProperty("id").GetString())
            .Where(id => id == fromMuted || id == fromBlocked)
            .ToList();
        Assert.Empty(leaked);
    }

    [Fact]
    public async Task A_hashtag_stream_carries_public_posts_with_the_tag_only()
    {
        var alice = await Client.SignUpAsync();
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        await using var stream = await UserStreamAsync(alice, $"hashtag&tag={tag}");
        var untagged = await PostAsync(alice, "no tag here");
        var hidden = await PostAsync(alice, $"private #{tag}", "private");
        var tagged = await PostAsync(alice, $"about #{tag}");
        var frame = await stream.NextAsync(f => StreamClient.Is(f, "update", "hashtag"), Second, "the tagged post");
        Assert.Equal(tagged, StreamClient.Payload(frame).GetProperty("id").GetString());
        Assert.Equal(["hashtag", tag], frame.GetProperty("stream").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(stream.Drain(), f => f.TryGetProperty("payload", out var p) && (p.GetString()!.Contains(untagged) || p.GetString()!.Contains(hidden)));
    }

    [Fact]
    public async Task Server_sent_events_deliver_an_update()
    {
        var alice = await Client.SignUpAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/streaming/public");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", alice.Token);
        using var response = await Client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal(":)", await reader.ReadLineAsync(timeout.Token));

        var id = await PostAsync(alice, "over server-sent events");
        string? line;
        while ((line = await reader.ReadLineAsync(timeout.Token)) != "event: update")
            Assert.NotNull(line);
        var data = await reader.ReadLineAsync(timeout.Token);
        Assert.StartsWith("data: ", data);
        Assert.Equal(id, JsonDocument.Parse(data!["data: ".Length..]).RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Health_answers_OK_and_the_instance_points_at_its_own_streaming_origin()
    {
        Assert.Equal("OK", await Client.Http.GetStringAsync("api/v1/streaming/health"));
        var origin = "ws://" + Address.Authority;
        var v2 = await Client.GetAsync("api/v2/instance");
        Assert.Equal(origin, v2.GetProperty("configuration").GetProperty("urls").GetProperty("streaming").GetString());
        var v1 = await Client.GetAsync("api/v1/instance");
        Assert.Equal(origin, v1.GetProperty("urls").GetProperty("streaming_api").GetString());
    }

    [Fact]
    public void A_connection_whose_queue_is_full_is_dropped_once()
    {
        var drops = 0;
        var connection = new StreamConnection(1, new Microsoft.AspNetCore.Http.DefaultHttpContext(), () => drops++);
        connection.Subscribe(Subscription.Parse("public", null)!);
        var e = new StreamEvent(StreamEvent.Update, 1, 2, 0, null, [], [], 0, 0, 0);
        for (var i = 0; i < StreamConnection.QueueCapacity; i++)
            Assert.True(connection.Offer(e));
        Assert.False(connection.Offer(e));
        Assert.True(connection.Offer(e));
        Assert.Equal(1, drops);
        Assert.True(connection.WasDropped);
    }
}

public sealed class SqliteStreamingTests(SqliteServer f) : StreamingTests(f), IClassFixture<SqliteServer>;

/// <summary>The same behaviour with the event bus on Redis pub/sub (the cache on Redis): every event goes through Redis.</summary>
[ThroughFront]
public sealed class PostgresRedisStreamingTests(PostgresRedisServer f) : StreamingTests(f), IClassFixture<PostgresRedisServer>;
