using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Accounts;

/// <summary>OAuth 2 as Mastodon clients use it (docs.joinmastodon.org/methods/oauth, /methods/apps), over real HTTP.</summary>
public abstract class OAuthTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] pairs) =>
        new(pairs.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)));

    [Fact]
    public async Task Registering_an_app_returns_its_credentials_once()
    {
        using var response = await Client.Http.PostAsJsonAsync("api/v1/apps", new
        {
            client_name = "Tusky", redirect_uris = new[] { "oauth2redirect://com.keylesspalace.tusky/", "https://app.example/cb" }, scopes = "read write follow push", website = "https://tusky.app",
        });
        var app = await Mastodon.Ok(response);
        Assert.Equal("Tusky", app.GetProperty("name").GetString());
        Assert.Equal("https://tusky.app", app.GetProperty("website").GetString());
        Assert.Equal(["read", "write", "follow", "push"], app.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("oauth2redirect://com.keylesspalace.tusky/\nhttps://app.example/cb", app.GetProperty("redirect_uri").GetString());
        Assert.Equal(2, app.GetProperty("redirect_uris").GetArrayLength());
        Assert.True(app.GetProperty("client_id").GetString()!.Length >= 32);
        Assert.True(app.GetProperty("client_secret").GetString()!.Length >= 32);
        Assert.Equal(0, app.GetProperty("client_secret_expires_at").GetInt64());
        Assert.Equal(87, app.GetProperty("vapid_key").GetString()!.Length); // base64url of a 65-byte P-256 point
    }

    [Theory]
    [InlineData("{\"redirect_uris\":\"urn:ietf:wg:oauth:2.0:oob\"}", "Application name can't be blank")]
    [InlineData("{\"client_name\":\"x\"}", "Redirect URI can't be blank")]
    [InlineData("{\"client_name\":\"x\",\"redirect_uris\":\"javascript:alert(1)\"}", "Redirect URI must be an absolute URI.")]
    [InlineData("{\"client_name\":\"x\",\"redirect_uris\":\"/relative\"}", "Redirect URI must be an absolute URI.")]
    [InlineData("{\"client_name\":\"x\",\"redirect_uris\":\"urn:ietf:wg:oauth:2.0:oob\",\"scopes\":\"read root\"}", "Scopes includes an unknown scope (root)")]
    public async Task A_bad_app_registration_is_a_422(string body, string error)
    {
        using var response = await Client.Http.PostAsync("api/v1/apps", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal($"Validation failed: {error}", await Mastodon.ErrorAsync(response, HttpStatusCode.UnprocessableEntity));
    }

    [Fact]
    public async Task An_app_token_verifies_its_app_without_the_secret()
    {
        var app = await Client.RegisterAppAsync();
        var token = await Client.AppTokenAsync(app, "read");
        var verified = await Client.GetAsync("api/v1/apps/verify_credentials", token);
        Assert.Equal(app.Id, verified.GetProperty("id").GetString());
        Assert.Equal("tests", verified.GetProperty("name").GetString());
        Assert.False(verified.TryGetProperty("client_secret", out _));

        using var anonymous = await Client.SendAsync(HttpMethod.Get, "api/v1/apps/verify_credentials");
        Assert.Equal("The access token is invalid", await Mastodon.ErrorAsync(anonymous, HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Client_credentials_gives_the_requested_scopes_and_defaults_to_read()
    {
        var app = await Client.RegisterAppAsync("read write");
        using var withScope = await Client.Http.PostAsync("oauth/token", Form(("grant_type", "client_credentials"), ("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("scope", "write")));
        var token = await Mastodon.Ok(withScope);
        Assert.Equal("write", token.GetProperty("scope").GetString());
        Assert.Equal("Bearer", token.GetProperty("token_type").GetString());
        Assert.InRange(token.GetProperty("created_at").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);

        using var noScope = await Client.Http.PostAsync("oauth/token", Form(("grant_type", "client_credentials"), ("client_id", app.ClientId), ("client_secret", app.ClientSecret)));
        Assert.Equal("read", (await Mastodon.Ok(noScope)).GetProperty("scope").GetString());
    }

    [Fact]
    public async Task Scopes_beyond_the_apps_and_bad_client_secrets_are_refused()
    {
        var app = await Client.RegisterAppAsync("read");
        using var tooMuch = await Client.Http.PostAsync("oauth/token", Form(("grant_type", "client_credentials"), ("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("scope", "read write")));
        Assert.Equal(HttpStatusCode.BadRequest, tooMuch.StatusCode);
        Assert.Equal("invalid_scope", (await tooMuch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        using var badSecret = await Client.Http.PostAsync("oauth/token", Form(("grant_type", "client_credentials"), ("client_id", app.ClientId), ("client_secret", "nope")));
        Assert.Equal(HttpStatusCode.Unauthorized, badSecret.StatusCode);
        Assert.Equal("invalid_client", (await badSecret.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        using var unknownGrant = await Client.Http.PostAsync("oauth/token", Form(("grant_type", "urn:example:nope"), ("client_id", app.ClientId), ("client_secret", app.ClientSecret)));
        Assert.Equal(HttpStatusCode.BadRequest, unknownGrant.StatusCode);
        Assert.Equal("unsupported_grant_type", (await unknownGrant.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_password_grant_takes_the_email_and_refuses_wrong_passwords()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync();
        using var ok = await Client.PasswordGrantAsync(app, user.Email.ToUpperInvariant(), user.Password);
        var token = (await Mastodon.Ok(ok)).GetProperty("access_token").GetString()!;
        Assert.Equal(user.Id, (await Client.GetAsync("api/v1/accounts/verify_credentials", token)).GetProperty("id").GetString());

        foreach (var (email, password) in new[] { (user.Email, "wrong password"), ("nobody@example.com", user.Password), (user.Username, user.Password) })
        {
            using var bad = await Client.PasswordGrantAsync(app, email, password);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("invalid_grant", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }
    }

    [Theory]
    [InlineData("json")]
    [InlineData("multipart")]
    public async Task The_token_endpoint_accepts_json_and_multipart_bodies(string encoding)
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync();
        var fields = new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["username"] = user.Email, ["password"] = user.Password, ["scope"] = "read",
        };
        HttpContent content = encoding == "json" ? JsonContent.Create(fields) : Multipart(fields);
        using var response = await Client.Http.PostAsync("oauth/token", content);
        Assert.Equal("read", (await Mastodon.Ok(response)).GetProperty("scope").GetString());
    }

    private static MultipartFormDataContent Multipart(Dictionary<string, string> fields)
    {
        var content = new MultipartFormDataContent();
        foreach (var (k, v) in fields)
            content.Add(new StringContent(v), k);
        return content;
    }

    [Fact]
    public async Task The_authorization_code_flow_signs_in_asks_and_redirects_with_code_and_state()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync("read write", "https://client.example/callback");
        using var flow = new OAuthFlow(fixture.Server.Address);
        var query = $"response_type=code&client_id={app.ClientId}&redirect_uri={Uri.EscapeDataString("https://client.example/callback")}&scope=read+write&state=xyz";

        using var login = await flow.OpenAsync(query);
        var html = await login.Content.ReadAsStringAsync();
        Assert.Contains("<strong>tests</strong> wants to use your Lenta account", html, StringComparison.Ordinal);
        Assert.Contains("type=\"password\"", html, StringComparison.Ordinal);

        using var wrong = await flow.SubmitAsync(login, new() { ["email"] = user.Email, ["password"] = "nope nope" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("Invalid e-mail address or password.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var redirect = await flow.AuthorizeAsync(query, user.Email, user.Password);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        var location = redirect.Headers.Location!;
        Assert.StartsWith("https://client.example/callback?", location.AbsoluteUri, StringComparison.Ordinal);
        var parameters = OAuthFlow.Query(location);
        Assert.Equal("xyz", parameters["state"]);

        var code = parameters["code"];
        var exchange = Form(("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("redirect_uri", "https://client.example/callback"));
        using var tokenResponse = await Client.Http.PostAsync("oauth/token", exchange);
        var token = await Mastodon.Ok(tokenResponse);
        Assert.Equal("read write", token.GetProperty("scope").GetString());
        var me = await Client.GetAsync("api/v1/accounts/verify_credentials", token.GetProperty("access_token").GetString());
        Assert.Equal(user.Username, me.GetProperty("username").GetString());

        // A code is single use.
        using var again = await Client.Http.PostAsync("oauth/token", Form(("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("redirect_uri", "https://client.example/callback")));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("invalid_grant", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_signed_in_person_is_only_asked_to_authorize_and_force_login_asks_again()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync("read", "https://client.example/cb");
        using var flow = new OAuthFlow(fixture.Server.Address);
        var query = $"response_type=code&client_id={app.ClientId}&redirect_uri={Uri.EscapeDataString("https://client.example/cb")}";
        using (var first = await flow.AuthorizeAsync(query, user.Email, user.Password))
            Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);

        using var second = await flow.OpenAsync(query);
        var html = await second.Content.ReadAsStringAsync();
        Assert.Contains($"Signed in as <strong>@{user.Username}</strong>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("type=\"password\"", html, StringComparison.Ordinal);

        using var forced = await flow.OpenAsync(query + "&force_login=true");
        Assert.Contains("type=\"password\"", await forced.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pkce_is_enforced_when_the_app_used_it()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync("read", "https://client.example/cb");
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var flow = new OAuthFlow(fixture.Server.Address);

        async Task<string> CodeAsync()
        {
            using var redirect = await flow.AuthorizeAsync($"response_type=code&client_id={app.ClientId}&redirect_uri={Uri.EscapeDataString("https://client.example/cb")}&code_challenge={challenge}&code_challenge_method=S256", user.Email, user.Password);
            return OAuthFlow.Query(redirect.Headers.Location!)["code"];
        }

        (string, string)[] Exchange(string code, string? v) =>
            [("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("redirect_uri", "https://client.example/cb"), .. v is null ? Array.Empty<(string, string)>() : [("code_verifier", v)]];

        using var missing = await Client.Http.PostAsync("oauth/token", Form(Exchange(await CodeAsync(), null)));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        using var wrong = await Client.Http.PostAsync("oauth/token", Form(Exchange(await CodeAsync(), verifier + "x")));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal("invalid_grant", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        using var right = await Client.Http.PostAsync("oauth/token", Form(Exchange(await CodeAsync(), verifier)));
        await Mastodon.Ok(right);
    }

    [Fact]
    public async Task An_out_of_band_app_gets_the_code_shown_on_a_page()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync("read");
        using var flow = new OAuthFlow(fixture.Server.Address);
        using var redirect = await flow.AuthorizeAsync($"response_type=code&client_id={app.ClientId}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read", user.Email, user.Password);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        var location = new Uri(fixture.Server.Address, redirect.Headers.Location!);
        Assert.Equal("/oauth/authorize/native", location.AbsolutePath);
        var code = OAuthFlow.Query(location)["code"];

        using var page = await flow.Browser.GetAsync(location);
        Assert.Contains($"value=\"{code}\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var token = await Client.Http.PostAsync("oauth/token", Form(("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob")));
        await Mastodon.Ok(token);
    }

    [Fact]
    public async Task Denying_redirects_with_access_denied()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync("read", "https://client.example/cb");
        using var flow = new OAuthFlow(fixture.Server.Address);
        var query = $"response_type=code&client_id={app.ClientId}&redirect_uri={Uri.EscapeDataString("https://client.example/cb")}&state=s1";
        using var login = await flow.OpenAsync(query);
        using var consent = await flow.SubmitAsync(login, new() { ["email"] = user.Email, ["password"] = user.Password });
        using var denied = await flow.SubmitAsync(consent, new() { ["decision"] = "deny" });
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        var parameters = OAuthFlow.Query(denied.Headers.Location!);
        Assert.Equal("access_denied", parameters["error"]);
        Assert.Equal("s1", parameters["state"]);
        Assert.False(parameters.ContainsKey("code"));
    }

    [Fact]
    public async Task Unknown_apps_and_unregistered_redirects_never_redirect()
    {
        var app = await Client.RegisterAppAsync("read", "https://client.example/cb");
        using var flow = new OAuthFlow(fixture.Server.Address);
        using var unknownClient = await flow.OpenAsync($"response_type=code&client_id=nope&redirect_uri={Uri.EscapeDataString("https://client.example/cb")}");
        Assert.Equal(HttpStatusCode.BadRequest, unknownClient.StatusCode);
        Assert.Null(unknownClient.Headers.Location);
        using var evil = await flow.OpenAsync($"response_type=code&client_id={app.ClientId}&redirect_uri={Uri.EscapeDataString("https://evil.example/steal")}");
        Assert.Equal(HttpStatusCode.BadRequest, evil.StatusCode);
        Assert.Null(evil.Headers.Location);
    }

    [Fact]
    public async Task A_login_form_posted_without_its_antiforgery_token_is_refused()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync("read");
        using var flow = new OAuthFlow(fixture.Server.Address);
        using var login = await flow.OpenAsync($"response_type=code&client_id={app.ClientId}&redirect_uri=urn:ietf:wg:oauth:2.0:oob");
        var fields = OAuthFlow.Hidden(await login.Content.ReadAsStringAsync());
        fields.Remove("__RequestVerificationToken");
        fields["email"] = user.Email;
        fields["password"] = user.Password;
        using var forged = await flow.Browser.PostAsync("oauth/authorize", new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Null(forged.Headers.Location);
    }

    [Fact]
    public async Task A_revoked_token_stops_working_and_only_its_app_may_revoke_it()
    {
        var app = await Client.RegisterAppAsync();
        var user = await Client.SignUpAsync(app: app);
        var other = await Client.RegisterAppAsync();

        using var foreign = await Client.Http.PostAsync("oauth/revoke", Form(("client_id", other.ClientId), ("client_secret", other.ClientSecret), ("token", user.Token)));
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal("unauthorized_client", (await foreign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        await Client.GetAsync("api/v1/accounts/verify_credentials", user.Token);

        using var badClient = await Client.Http.PostAsync("oauth/revoke", Form(("client_id", app.ClientId), ("client_secret", "wrong"), ("token", user.Token)));
        Assert.Equal(HttpStatusCode.Unauthorized, badClient.StatusCode);

        using var revoke = await Client.Http.PostAsync("oauth/revoke", Form(("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("token", user.Token)));
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal("{}", await revoke.Content.ReadAsStringAsync());
        using var after = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/verify_credentials", user.Token);
        Assert.Equal("The access token is invalid", await Mastodon.ErrorAsync(after, HttpStatusCode.Unauthorized));

        using var twice = await Client.Http.PostAsync("oauth/revoke", Form(("client_id", app.ClientId), ("client_secret", app.ClientSecret), ("token", user.Token)));
        Assert.Equal(HttpStatusCode.OK, twice.StatusCode);
    }

    [Fact]
    public async Task Scopes_are_checked_on_every_endpoint()
    {
        var app = await Client.RegisterAppAsync("read write follow push profile read:accounts write:accounts");
        var user = await Client.SignUpAsync(app: app);
        async Task<string> TokenAsync(string scope)
        {
            using var response = await Client.PasswordGrantAsync(app, user.Email, user.Password, scope);
            return (await Mastodon.Ok(response)).GetProperty("access_token").GetString()!;
        }

        var readOnly = new { Token = await TokenAsync("read") };
        using var write = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", readOnly.Token, JsonContent.Create(new { display_name = "x" }));
        Assert.Equal("This action is outside the authorized scopes", await Mastodon.ErrorAsync(write, HttpStatusCode.Forbidden));

        var profileOnly = new { Token = await TokenAsync("profile") };
        await Client.GetAsync("api/v1/accounts/verify_credentials", profileOnly.Token);
        using var notifications = await Client.SendAsync(HttpMethod.Get, "api/v1/notifications", profileOnly.Token);
        Assert.Equal(HttpStatusCode.Forbidden, notifications.StatusCode);

        var granular = new { Token = await TokenAsync("read:accounts write:accounts") };
        await Client.GetAsync("api/v1/accounts/verify_credentials", granular.Token);
        using var update = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", granular.Token, JsonContent.Create(new { display_name = "G" }));
        await Mastodon.Ok(update);

        var appToken = await Client.AppTokenAsync(app);
        using var asApp = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/verify_credentials", appToken);
        Assert.Equal("This method requires an authenticated user", await Mastodon.ErrorAsync(asApp, HttpStatusCode.UnprocessableEntity));

        using var garbage = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/verify_credentials", "not-a-real-token-at-all-xxxxxxxx");
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
    }

    [Fact]
    public async Task Authorization_server_metadata_is_published()
    {
        var meta = await Client.GetAsync(".well-known/oauth-authorization-server");
        Assert.EndsWith("/oauth/authorize", meta.GetProperty("authorization_endpoint").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("/oauth/token", meta.GetProperty("token_endpoint").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("/api/v1/apps", meta.GetProperty("app_registration_endpoint").GetString(), StringComparison.Ordinal);
        Assert.Contains("S256", meta.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("password", meta.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("read:accounts", meta.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()));
    }
}

public sealed class SqliteOAuthTests(SqliteServer f) : OAuthTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresOAuthTests(PostgresServer f) : OAuthTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisOAuthTests(PostgresRedisServer f) : OAuthTests(f), IClassFixture<PostgresRedisServer>;
