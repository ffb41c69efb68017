using System.Diagnostics;
using System.Net.Http.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Streaming;

/// <summary>
/// Two server processes on one PostgreSQL and one Redis (as behind a load balancer): an event is published by the
/// process that commits its cause and delivered by the one that holds the socket, through Redis pub/sub.
/// </summary>
public sealed class StreamingAcrossProcessesTests : IAsyncLifetime
{
    private TestServer _writer = null!;
    private TestServer _streamer = null!;

    public async ValueTask InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Lenta:RateLimits:Enabled"] = "false",
            ["Lenta:Database:Provider"] = "postgres",
            ["Lenta:Database:ConnectionString"] = await Postgres.CreateDatabaseAsync(),
        };
        foreach (var (key, value) in Redis.ServerSettings(Redis.Single))
            settings[key] = value;
        _writer = await TestServer.StartAsync(new Dictionary<string, string?>(settings) { ["Lenta:NodeId"] = "1" });
        _streamer = await TestServer.StartAsync(new Dictionary<string, string?>(settings) { ["Lenta:NodeId"] = "2" });
    }

    public async ValueTask DisposeAsync()
    {
        if (_streamer is not null)
            await _streamer.DisposeAsync();
        if (_writer is not null)
            await _writer.DisposeAsync();
    }

    [Fact]
    public async Task A_post_composed_through_one_process_reaches_a_socket_held_by_the_other()
    {
        var writer = new Mastodon(_writer.Http);
        var alice = await writer.SignUpAsync();
        var bob = await writer.SignUpAsync();
        using (var follow = await writer.SendAsync(HttpMethod.Post, $"api/v1/accounts/{bob.Id}/follow", alice.Token))
            await Mastodon.Ok(follow);

        await using var stream = await StreamClient.ConnectAsync(_streamer.Address, $"access_token={alice.Token}&stream=user");
        var clock = Stopwatch.StartNew();
        using var posted = await writer.SendAsync(HttpMethod.Post, "api/v1/statuses", bob.Token, JsonContent.Create(new { status = "across processes" }));
        var id = (await Mastodon.Ok(posted)).GetProperty("id").GetString();
        var frame = await stream.NextAsync(f => StreamClient.Is(f, "update", "user") && StreamClient.Payload(f).GetProperty("id").GetString() == id,
            TimeSpan.FromSeconds(1), "bob's post through the other process");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.ElapsedMilliseconds} ms");
        // Rendered by the process that holds the socket, with its own public URL.
        Assert.StartsWith(_streamer.Address.GetLeftPart(UriPartial.Authority), StreamClient.Payload(frame).GetProperty("url").GetString());
    }
}
