using System.Net;
using System.Text.Json;
using Lenta.Server.Api;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Primitives;

namespace Lenta.Tests.Api;

/// <summary>Mastodon's request and response conventions, and the start-up endpoints clients call.</summary>
public sealed class ConventionsTests(SqliteServer fixture) : IClassFixture<SqliteServer>
{
    private Mastodon Client => fixture.Client;

    /// <summary>Rails' rule for <c>a[][x]</c>: a key fills the last object until that object has it, then a new one starts.</summary>
    [Fact]
    public void Appended_objects_are_filled_key_by_key_as_Rails_does()
    {
        var p = ApiParams.FromPairs(
        [
            new("media_attributes[][id]", "1"), new("media_attributes[][description]", "first"),
            new("media_attributes[][id]", "2"), new("media_attributes[][description]", "second"), new("media_attributes[][focus]", "0,0"),
            new("media_attributes[][id]", "3"),
        ]);
        var objects = p.Objects("media_attributes");
        Assert.Equal(["1", "2", "3"], objects.Select(o => o.String("id")));
        Assert.Equal(["first", "second", null], objects.Select(o => o.String("description")));
        Assert.Equal("0,0", objects[1].String("focus"));
    }

    [Fact]
    public void Rails_brackets_become_arrays_and_objects()
    {
        var p = ApiParams.FromPairs(new Dictionary<string, StringValues>
        {
            ["id[]"] = new(["5", "7"]),
            ["media_ids[1]"] = "b",
            ["media_ids[0]"] = "a",
            ["poll[options][]"] = new(["x", "y"]),
            ["poll[expires_in]"] = "3600",
            ["source[privacy]"] = "private",
            ["fields_attributes[0][name]"] = "n0",
            ["fields_attributes[1][name]"] = "n1",
            ["plain"] = "v",
            ["flag"] = "off",
            ["on"] = "yes",
            ["blank"] = "",
        });
        Assert.Equal(["5", "7"], p.Strings("id"));
        Assert.Equal(["a", "b"], p.Strings("media_ids"));
        Assert.Equal(["x", "y"], p.Object("poll")!.Strings("options"));
        Assert.Equal(3600, p.Object("poll")!.Long("expires_in"));
        Assert.Equal("private", p.Object("source")!.String("privacy"));
        Assert.Equal(["n0", "n1"], p.Objects("fields_attributes").Select(f => f.String("name")));
        Assert.Equal(["v"], p.Strings("plain"));
        Assert.False(p.Bool("flag"));
        Assert.True(p.Bool("on"));
        Assert.Null(p.Bool("blank"));
        Assert.Null(p.Bool("absent"));
    }

    [Fact]
    public async Task Api_responses_allow_browsers_and_are_not_cached()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/instance");
        request.Headers.Add("Origin", "https://elk.example");
        using var response = await Client.Http.SendAsync(request);
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("Link", string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.Ordinal);
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "oauth/token");
        preflight.Headers.Add("Origin", "https://elk.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var answer = await Client.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("*", Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Theory]
    [InlineData("api/v1/notifications", "[]")]
    [InlineData("api/v1/notifications/unread_count", "{\"count\":0}")]
    [InlineData("api/v1/custom_emojis", "[]")]
    [InlineData("api/v1/filters", "[]")]
    [InlineData("api/v2/filters", "[]")]
    [InlineData("api/v1/markers?timeline[]=home&timeline[]=notifications", "{}")]
    [InlineData("api/v1/lists", "[]")]
    [InlineData("api/v1/announcements", "[]")]
    [InlineData("api/v1/followed_tags", "[]")]
    [InlineData("api/v1/trends/tags", "[]")]
    [InlineData("api/v1/trends/statuses", "[]")]
    [InlineData("api/v1/trends/links", "[]")]
    [InlineData("api/v1/blocks", "[]")]
    [InlineData("api/v1/mutes", "[]")]
    [InlineData("api/v1/bookmarks", "[]")]
    [InlineData("api/v1/conversations", "[]")]
    [InlineData("api/v1/scheduled_statuses", "[]")]
    public async Task Start_up_endpoints_answer_valid_empty_results(string path, string expected)
    {
        var user = await Client.SignUpAsync();
        using var response = await Client.SendAsync(HttpMethod.Get, path, user.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Start_up_endpoints_that_need_a_user_refuse_anonymous_calls()
    {
        using var notifications = await Client.SendAsync(HttpMethod.Get, "api/v1/notifications");
        Assert.Equal(HttpStatusCode.Unauthorized, notifications.StatusCode);
        var user = await Client.SignUpAsync();
        using var push = await Client.SendAsync(HttpMethod.Get, "api/v1/push/subscription", user.Token);
        Assert.Equal(HttpStatusCode.NotFound, push.StatusCode);
    }

    [Fact]
    public async Task Preferences_follow_the_accounts_defaults()
    {
        var user = await Client.SignUpAsync();
        using (await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["source[privacy]"] = "unlisted" })))
        {
        }
        var prefs = await Client.GetAsync("api/v1/preferences", user.Token);
        Assert.Equal("unlisted", prefs.GetProperty("posting:default:visibility").GetString());
        Assert.False(prefs.GetProperty("posting:default:sensitive").GetBoolean());
        Assert.Equal("default", prefs.GetProperty("reading:expand:media").GetString());
    }

    [Fact]
    public async Task The_instance_publishes_its_limits_in_v1_and_v2()
    {
        var v2 = await Client.GetAsync("api/v2/instance");
        var config = v2.GetProperty("configuration");
        Assert.Equal(500, config.GetProperty("statuses").GetProperty("max_characters").GetInt32());
        Assert.Equal(4, config.GetProperty("statuses").GetProperty("max_media_attachments").GetInt32());
        Assert.Equal(30, config.GetProperty("accounts").GetProperty("max_display_name_length").GetInt32());
        Assert.Contains("image/jpeg", config.GetProperty("media_attachments").GetProperty("supported_mime_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(87, config.GetProperty("vapid").GetProperty("public_key").GetString()!.Length);
        Assert.True(v2.GetProperty("registrations").GetProperty("enabled").GetBoolean());
        Assert.StartsWith("4.", v2.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Equal(fixture.Server.Address.Authority, v2.GetProperty("domain").GetString());

        var v1 = await Client.GetAsync("api/v1/instance");
        Assert.Equal(fixture.Server.Address.Authority, v1.GetProperty("uri").GetString());
        Assert.Equal(500, v1.GetProperty("configuration").GetProperty("statuses").GetProperty("max_characters").GetInt32());
        Assert.Equal(JsonValueKind.Number, v1.GetProperty("stats").GetProperty("user_count").ValueKind);

        var links = await Client.GetAsync(".well-known/nodeinfo");
        var href = links.GetProperty("links")[0].GetProperty("href").GetString()!;
        var nodeinfo = await Client.GetAsync(new Uri(href).PathAndQuery.TrimStart('/'));
        Assert.Equal("lenta", nodeinfo.GetProperty("software").GetProperty("name").GetString());
    }
}
