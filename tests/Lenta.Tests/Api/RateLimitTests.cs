using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Api;

/// <summary>Rate limits per token and IP, the sign-up limit, and the failed-sign-in throttle (docs.joinmastodon.org/api/rate-limits).</summary>
public sealed class RateLimitTests
{
    private static Task<TestServer> StartAsync(int requests, int signUps) => TestServer.StartAsync(new Dictionary<string, string?>
    {
        ["Lenta:RateLimits:Requests"] = requests.ToString(CultureInfo.InvariantCulture),
        ["Lenta:RateLimits:SignUps"] = signUps.ToString(CultureInfo.InvariantCulture),
    });

    [Fact]
    public async Task Requests_past_the_limit_get_429_with_the_rate_limit_headers()
    {
        await using var server = await StartAsync(requests: 5, signUps: 5);
        var remaining = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            using var ok = await server.Http.GetAsync("api/v1/instance");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("5", Assert.Single(ok.Headers.GetValues("X-RateLimit-Limit")));
            remaining.Add(int.Parse(Assert.Single(ok.Headers.GetValues("X-RateLimit-Remaining")), CultureInfo.InvariantCulture));
        }
        Assert.Equal([4, 3, 2, 1, 0], remaining);

        using var refused = await server.Http.GetAsync("api/v1/instance");
        Assert.Equal("Too many requests", await Mastodon.ErrorAsync(refused, HttpStatusCode.TooManyRequests));
        Assert.Equal("0", Assert.Single(refused.Headers.GetValues("X-RateLimit-Remaining")));
        var reset = DateTimeOffset.Parse(Assert.Single(refused.Headers.GetValues("X-RateLimit-Reset")), CultureInfo.InvariantCulture);
        Assert.InRange(reset, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5).AddSeconds(5));

        // A token has its own budget, separate from the anonymous IP's.
        using var withToken = new HttpRequestMessage(HttpMethod.Get, "api/v1/instance");
        withToken.Headers.Authorization = new("Bearer", "some-token-value-that-counts-alone");
        using var tokenResponse = await server.Http.SendAsync(withToken);
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);

        // Health checks are never limited.
        using var health = await server.Http.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Sign_ups_are_limited_per_ip()
    {
        await using var server = await StartAsync(requests: 1000, signUps: 2);
        var client = new Mastodon(server.Http);
        var app = await client.RegisterAppAsync();
        var appToken = await client.AppTokenAsync(app);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            var name = "rl" + Guid.NewGuid().ToString("N")[..10];
            using var response = await client.SendAsync(HttpMethod.Post, "api/v1/accounts", appToken,
                JsonContent.Create(new { username = name, email = $"{name}@example.com", password = "long enough", agreement = true, locale = "en" }));
            statuses.Add(response.StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Repeated_failed_sign_ins_lock_out_even_the_right_password()
    {
        await using var server = await StartAsync(requests: 1000, signUps: 5);
        var client = new Mastodon(server.Http);
        var user = await client.SignUpAsync();
        var app = await client.RegisterAppAsync();
        for (var i = 0; i < 10; i++)
        {
            using var wrong = await client.PasswordGrantAsync(app, user.Email, "wrong password " + i);
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        }
        using var right = await client.PasswordGrantAsync(app, user.Email, user.Password);
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Contains("Too many failed sign-ins", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
