using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Accounts;

/// <summary>docs.joinmastodon.org/methods/accounts: sign-up, credentials, profiles, lookups, over real HTTP.</summary>
public abstract class AccountsTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private async Task<HttpResponseMessage> SignUpRawAsync(object body, string? token = null)
    {
        token ??= await Client.AppTokenAsync(await Client.RegisterAppAsync());
        return await Client.SendAsync(HttpMethod.Post, "api/v1/accounts", token, JsonContent.Create(body));
    }

    [Fact]
    public async Task Sign_up_returns_a_working_user_token()
    {
        var name = "Alice" + Guid.NewGuid().ToString("N")[..8];
        var user = await Client.SignUpAsync(name);
        var me = await Client.GetAsync("api/v1/accounts/verify_credentials", user.Token);
        Assert.Equal(name, me.GetProperty("username").GetString());
        Assert.Equal(name, me.GetProperty("acct").GetString());
        Assert.Equal("", me.GetProperty("display_name").GetString());
        Assert.Equal(0, me.GetProperty("followers_count").GetInt64());
        Assert.Equal(0, me.GetProperty("following_count").GetInt64());
        Assert.Equal(0, me.GetProperty("statuses_count").GetInt64());
        Assert.Equal(JsonValueKind.Null, me.GetProperty("last_status_at").ValueKind);
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd'T'00:00:00.000'Z'", System.Globalization.CultureInfo.InvariantCulture), me.GetProperty("created_at").GetString());
        Assert.Equal("public", me.GetProperty("source").GetProperty("privacy").GetString());
        Assert.Equal(0, me.GetProperty("source").GetProperty("follow_requests_count").GetInt64());
        Assert.EndsWith($"/@{name}", me.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("/avatars/original/missing.png", me.GetProperty("avatar").GetString(), StringComparison.Ordinal);
        foreach (var key in new[] { "emojis", "fields", "roles" })
            Assert.Equal(JsonValueKind.Array, me.GetProperty(key).ValueKind);
        Assert.True(me.GetProperty("discoverable").GetBoolean());
        Assert.False(me.GetProperty("locked").GetBoolean());

        using var avatar = await Client.Http.GetAsync(new Uri(me.GetProperty("avatar").GetString()!));
        Assert.Equal("image/png", avatar.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_sign_up_token_carries_the_apps_registered_scopes()
    {
        var app = await Client.RegisterAppAsync("read write follow");
        var appToken = await Client.AppTokenAsync(app, "write");
        var name = "scoped" + Guid.NewGuid().ToString("N")[..8];
        using var response = await SignUpRawAsync(new { username = name, email = $"{name}@example.com", password = "long enough", agreement = true, locale = "en" }, appToken);
        var token = await Mastodon.Ok(response);
        Assert.Equal("read write follow", token.GetProperty("scope").GetString());
        await Client.GetAsync("api/v1/accounts/verify_credentials", token.GetProperty("access_token").GetString());
    }

    [Fact]
    public async Task Sign_up_problems_are_a_422_with_details_and_create_nothing()
    {
        var taken = await Client.SignUpAsync();
        var cases = new (object Body, string Field, string Code)[]
        {
            (new { username = "", email = "a@example.com", password = "long enough", agreement = true, locale = "en" }, "username", "ERR_BLANK"),
            (new { username = new string('a', 31), email = "a@example.com", password = "long enough", agreement = true, locale = "en" }, "username", "ERR_TOO_LONG"),
            (new { username = "bad name!", email = "a@example.com", password = "long enough", agreement = true, locale = "en" }, "username", "ERR_INVALID"),
            (new { username = "Admin", email = "a@example.com", password = "long enough", agreement = true, locale = "en" }, "username", "ERR_RESERVED"),
            (new { username = taken.Username.ToUpperInvariant(), email = "new@example.com", password = "long enough", agreement = true, locale = "en" }, "username", "ERR_TAKEN"),
            (new { username = "fresh_one", email = taken.Email.ToUpperInvariant(), password = "long enough", agreement = true, locale = "en" }, "email", "ERR_TAKEN"),
            (new { username = "fresh_one", email = "not-an-email", password = "long enough", agreement = true, locale = "en" }, "email", "ERR_INVALID"),
            (new { username = "fresh_one", email = "f@example.com", password = "short", agreement = true, locale = "en" }, "password", "ERR_TOO_SHORT"),
            (new { username = "fresh_one", email = "f@example.com", password = new string('p', 73), agreement = true, locale = "en" }, "password", "ERR_TOO_LONG"),
            (new { username = "fresh_one", email = "f@example.com", password = "long enough", agreement = false, locale = "en" }, "agreement", "ERR_ACCEPTED"),
            (new { username = "fresh_one", email = "f@example.com", password = "long enough", agreement = true, locale = "" }, "locale", "ERR_BLANK"),
            (new { username = "fresh_one", email = "f@example.com", password = "long enough", agreement = true, locale = "not a locale" }, "locale", "ERR_INCLUSION"),
        };
        var appToken = await Client.AppTokenAsync(await Client.RegisterAppAsync());
        foreach (var (body, field, code) in cases)
        {
            using var response = await SignUpRawAsync(body, appToken);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{field}/{code}: {(int)response.StatusCode} {text}");
            var error = JsonDocument.Parse(text).RootElement;
            Assert.StartsWith("Validation failed: ", error.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(code, error.GetProperty("details").GetProperty(field)[0].GetProperty("error").GetString());
        }
        using var lookup = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/lookup?acct=fresh_one");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task Every_sign_up_problem_is_reported_at_once_in_mastodons_words()
    {
        using var response = await SignUpRawAsync(new { username = "ok_name_" + Guid.NewGuid().ToString("N")[..6], email = "x@example.com", locale = "en" });
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Validation failed: Password can't be blank, Agreement must be accepted", error.GetProperty("error").GetString());
        Assert.Equal("can't be blank", error.GetProperty("details").GetProperty("password")[0].GetProperty("description").GetString());
    }

    [Fact]
    public async Task Sign_up_needs_an_app_token_with_write_scope()
    {
        using var anonymous = await Client.Http.PostAsJsonAsync("api/v1/accounts", new { username = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var app = await Client.RegisterAppAsync("read write");
        using var readOnly = await SignUpRawAsync(new { username = "x" }, await Client.AppTokenAsync(app, "read"));
        Assert.Equal(HttpStatusCode.Forbidden, readOnly.StatusCode);
    }

    [Fact]
    public async Task Concurrent_sign_ups_for_one_name_make_exactly_one_account()
    {
        var name = "race" + Guid.NewGuid().ToString("N")[..8];
        var appToken = await Client.AppTokenAsync(await Client.RegisterAppAsync());
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            SignUpRawAsync(new { username = name, email = $"{name}{i}@example.com", password = "long enough", agreement = true, locale = "en" }, appToken)));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.UnprocessableEntity));
        foreach (var r in responses)
            r.Dispose();
        await Client.GetAsync($"api/v1/accounts/lookup?acct={name}");
    }

    [Fact]
    public async Task Update_credentials_changes_the_profile_from_json_form_or_multipart()
    {
        var user = await Client.SignUpAsync();
        using (var json = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token,
            JsonContent.Create(new { display_name = "Alice A.", note = "I <3 cats & dogs\n\nSecond line", locked = true, source = new { privacy = "private", language = "de" } })))
        {
            var me = await Mastodon.Ok(json);
            Assert.Equal("Alice A.", me.GetProperty("display_name").GetString());
            Assert.Equal("<p>I &lt;3 cats &amp; dogs</p><p>Second line</p>", me.GetProperty("note").GetString());
            Assert.Equal("I <3 cats & dogs\n\nSecond line", me.GetProperty("source").GetProperty("note").GetString());
            Assert.True(me.GetProperty("locked").GetBoolean());
            Assert.Equal("private", me.GetProperty("source").GetProperty("privacy").GetString());
            Assert.Equal("de", me.GetProperty("source").GetProperty("language").GetString());
        }

        using (var form = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["locked"] = "false", ["fields_attributes[0][name]"] = "Web", ["fields_attributes[0][value]"] = "<b>x</b>", ["fields_attributes[1][name]"] = "Pronouns", ["fields_attributes[1][value]"] = "she/her",
            ["source[sensitive]"] = "1",
        })))
        {
            var me = await Mastodon.Ok(form);
            Assert.False(me.GetProperty("locked").GetBoolean());
            Assert.Equal("Alice A.", me.GetProperty("display_name").GetString()); // untouched
            var fields = me.GetProperty("fields");
            Assert.Equal(2, fields.GetArrayLength());
            Assert.Equal("&lt;b&gt;x&lt;/b&gt;", fields[0].GetProperty("value").GetString());
            Assert.Equal("<b>x</b>", me.GetProperty("source").GetProperty("fields")[0].GetProperty("value").GetString());
            Assert.True(me.GetProperty("source").GetProperty("sensitive").GetBoolean());
        }

        var multipart = new MultipartFormDataContent { { new StringContent("Multi"), "display_name" }, { new StringContent("Bot"), "fields_attributes[][name]" }, { new StringContent("yes"), "fields_attributes[][value]" } };
        using (var mp = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, multipart))
        {
            var me = await Mastodon.Ok(mp);
            Assert.Equal("Multi", me.GetProperty("display_name").GetString());
        }

        var seen = await Client.GetAsync($"api/v1/accounts/{user.Id}");
        Assert.Equal("Multi", seen.GetProperty("display_name").GetString());
        Assert.False(seen.TryGetProperty("source", out _));
    }

    [Fact]
    public async Task Update_credentials_refuses_overlong_fields_and_changes_nothing()
    {
        var user = await Client.SignUpAsync();
        foreach (var body in new object[]
        {
            new { display_name = new string('x', 31) },
            new { note = new string('x', 501) },
            new { display_name = "ok", source = new { privacy = "secret" } },
        })
        {
            using var response = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, JsonContent.Create(body));
            Assert.StartsWith("Validation failed: ", await Mastodon.ErrorAsync(response, HttpStatusCode.UnprocessableEntity), StringComparison.Ordinal);
        }
        var fields = Enumerable.Range(0, 5).ToDictionary(i => $"fields_attributes[{i}][name]", i => $"f{i}");
        using (var tooMany = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, new FormUrlEncodedContent(fields)))
            Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMany.StatusCode);
        var me = await Client.GetAsync("api/v1/accounts/verify_credentials", user.Token);
        Assert.Equal("", me.GetProperty("display_name").GetString());
        Assert.Equal("public", me.GetProperty("source").GetProperty("privacy").GetString());
        Assert.Equal(0, me.GetProperty("fields").GetArrayLength());
    }

    [Fact]
    public async Task Accounts_are_public_by_id_and_by_lookup()
    {
        var user = await Client.SignUpAsync("Bob" + Guid.NewGuid().ToString("N")[..8]);
        var byId = await Client.GetAsync($"api/v1/accounts/{user.Id}");
        Assert.Equal(user.Username, byId.GetProperty("username").GetString());

        var lookedUp = await Client.GetAsync($"api/v1/accounts/lookup?acct={user.Username.ToLowerInvariant()}");
        Assert.Equal(user.Id, lookedUp.GetProperty("id").GetString());
        var host = fixture.Server.Address.Authority;
        Assert.Equal(user.Id, (await Client.GetAsync($"api/v1/accounts/lookup?acct=@{user.Username}@{host}")).GetProperty("id").GetString());

        foreach (var path in new[] { "api/v1/accounts/999999999", "api/v1/accounts/abc", "api/v1/accounts/-5", $"api/v1/accounts/lookup?acct={user.Username}@elsewhere.example", "api/v1/accounts/lookup?acct=nobody_here" })
        {
            using var response = await Client.SendAsync(HttpMethod.Get, path);
            Assert.Equal("Record not found", await Mastodon.ErrorAsync(response, HttpStatusCode.NotFound));
        }
        using var noAcct = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/lookup");
        Assert.Equal(HttpStatusCode.BadRequest, noAcct.StatusCode);
    }

    [Fact]
    public async Task Bodies_that_cannot_be_read_are_a_clear_4xx()
    {
        var user = await Client.SignUpAsync();
        using var broken = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, new StringContent("{\"display_name\": ", Encoding.UTF8, "application/json"));
        Assert.StartsWith("The request body is not valid JSON", await Mastodon.ErrorAsync(broken, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        using var array = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, new StringContent("[1,2]", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, array.StatusCode);
        using var xml = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, new StringContent("<x/>", Encoding.UTF8, "application/xml"));
        Assert.StartsWith("Unsupported content type", await Mastodon.ErrorAsync(xml, HttpStatusCode.UnsupportedMediaType), StringComparison.Ordinal);
    }
}

public sealed class SqliteAccountsTests(SqliteServer f) : AccountsTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresAccountsTests(PostgresServer f) : AccountsTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisAccountsTests(PostgresRedisServer f) : AccountsTests(f), IClassFixture<PostgresRedisServer>;
