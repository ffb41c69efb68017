using System.Net;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Api;

/// <summary>
/// <c>Lenta__TrustedProxies</c>: behind a listed proxy the client's address (rate limits) and scheme (links) come from
/// <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c>; from anywhere else those headers are ignored.
/// </summary>
public sealed class TrustedProxyTests
{
    private static Dictionary<string, string?> Limited(string? proxies) => new()
    {
        ["Lenta:RateLimits:Enabled"] = "true",
        ["Lenta:RateLimits:Requests"] = "3",
        ["Lenta:TrustedProxies"] = proxies,
    };

    private static async Task<(HttpStatusCode Status, string Body)> LookupAsync(TestServer server, string username, string client, string proto = "https")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/accounts/lookup?acct={username}");
        request.Headers.Add("X-Forwarded-For", client);
        request.Headers.Add("X-Forwarded-Proto", proto);
        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_limits_key_on_the_forwarded_client_and_links_use_the_forwarded_scheme()
    {
        await using var server = await TestServer.StartAsync(Limited("10.9.9.9, 127.0.0.0/8"));
        var user = await new Mastodon(server.Http).SignUpAsync();

        var first = await LookupAsync(server, user.Username, "203.0.113.7");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.StartsWith("https://", JsonDocument.Parse(first.Body).RootElement.GetProperty("url").GetString(), StringComparison.Ordinal);

        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await LookupAsync(server, user.Username, "203.0.113.7")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await LookupAsync(server, user.Username, "203.0.113.7")).Status);
        // Another client behind the same proxy has a window of its own, as does one behind a chain of listed proxies.
        Assert.Equal(HttpStatusCode.OK, (await LookupAsync(server, user.Username, "198.51.100.4")).Status);
        Assert.Equal(HttpStatusCode.OK, (await LookupAsync(server, user.Username, "192.0.2.1, 10.9.9.9")).Status);
    }

    [Fact]
    public async Task Without_trusted_proxies_forwarded_headers_are_ignored()
    {
        var settings = Limited(null);
        settings["Lenta:RateLimits:Requests"] = "100";
        await using var server = await TestServer.StartAsync(settings);
        var user = await new Mastodon(server.Http).SignUpAsync();

        // Every request counts against the connection's own address, whatever client it claims to be.
        var remaining = new List<int>();
        foreach (var client in new[] { "203.0.113.7", "198.51.100.4", "192.0.2.1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/accounts/lookup?acct={user.Username}");
            request.Headers.Add("X-Forwarded-For", client);
            request.Headers.Add("X-Forwarded-Proto", "https");
            using var response = await server.Http.SendAsync(request);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.StartsWith("http://", body.GetProperty("url").GetString(), StringComparison.Ordinal);
            remaining.Add(int.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal([remaining[0], remaining[0] - 1, remaining[0] - 2], remaining);
    }

    [Fact]
    public async Task A_malformed_proxy_list_stops_the_start_naming_the_setting()
    {
        var (code, output) = await ServerProcess.RunToExitAsync(new Dictionary<string, string>
        {
            ["Lenta__TrustedProxies"] = "10.0.0.1, nginx.local",
            ["Lenta__DataPath"] = TempFolder.Create("lenta-proxies"),
        }, TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, code);
        Assert.Contains("Lenta__TrustedProxies: 'nginx.local'", output, StringComparison.Ordinal);
    }
}
