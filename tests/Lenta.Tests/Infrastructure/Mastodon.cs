using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lenta.Tests.Infrastructure;

/// <summary>Intent-level calls against a server, the way a Mastodon client makes them.</summary>
public sealed class Mastodon(HttpClient http)
{
    public HttpClient Http => http;

    public sealed record App(string ClientId, string ClientSecret, string Id);

    public sealed record User(string Token, string Id, string Username, string Email, string Password);

    public async Task<App> RegisterAppAsync(string scopes = "read write follow push", string redirect = "urn:ietf:wg:oauth:2.0:oob")
    {
        using var response = await http.PostAsJsonAsync("api/v1/apps", new { client_name = "tests", redirect_uris = redirect, scopes });
        var body = await Ok(response);
        return new App(body.GetProperty("client_id").GetString()!, body.GetProperty("client_secret").GetString()!, body.GetProperty("id").GetString()!);
    }

    public async Task<string> AppTokenAsync(App app, string scope = "read write follow push")
    {
        using var response = await http.PostAsync("oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["scope"] = scope,
        }));
        return (await Ok(response)).GetProperty("access_token").GetString()!;
    }

    /// <summary>Signs up through an app token with <paramref name="scope"/> (needs write); the user's token gets the app's scopes.</summary>
    public async Task<User> SignUpAsync(string? username = null, App? app = null, string scope = "write")
    {
        app ??= await RegisterAppAsync();
        var appToken = await AppTokenAsync(app, scope);
        username ??= "u" + Guid.NewGuid().ToString("N")[..12];
        var email = $"{username}@example.com";
        const string password = "correct horse battery";
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/accounts")
        {
            Content = JsonContent.Create(new { username, email, password, agreement = true, locale = "en" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", appToken);
        using var response = await http.SendAsync(request);
        var token = (await Ok(response)).GetProperty("access_token").GetString()!;
        var me = await GetAsync("api/v1/accounts/verify_credentials", token);
        return new User(token, me.GetProperty("id").GetString()!, username, email, password);
    }

    public async Task<HttpResponseMessage> PasswordGrantAsync(App app, string email, string password, string scope = "read write follow")
    {
        return await http.PostAsync("oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["username"] = email, ["password"] = password, ["scope"] = scope,
        }));
    }

    public async Task<JsonElement> GetAsync(string path, string? token = null)
    {
        using var response = await SendAsync(HttpMethod.Get, path, token);
        return await Ok(response);
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    /// <summary>Posts a status as <paramref name="user"/> (a reply when <paramref name="inReplyTo"/> is given); returns the created status.</summary>
    public async Task<JsonElement> PostStatusAsync(User user, string text = "hello", string visibility = "public", string? inReplyTo = null)
    {
        using var r = await SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = text, visibility, in_reply_to_id = inReplyTo }));
        return await Ok(r);
    }

    /// <summary>Posts a status as <paramref name="user"/>; returns its id.</summary>
    public async Task<string> PostAsync(User user, string text = "hello", string visibility = "public", string? inReplyTo = null) =>
        (await PostStatusAsync(user, text, visibility, inReplyTo)).GetProperty("id").GetString()!;

    /// <summary><paramref name="who"/> follows <paramref name="whom"/> (a request, for a locked account); asserts success.</summary>
    public async Task FollowAsync(User who, User whom)
    {
        using var r = await SendAsync(HttpMethod.Post, $"api/v1/accounts/{whom.Id}/follow", who.Token);
        await Ok(r);
    }

    public static async Task<JsonElement> Ok(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the status and Mastodon's error body; returns the <c>error</c> text.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
    }
}
