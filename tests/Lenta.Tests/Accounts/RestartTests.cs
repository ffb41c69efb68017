using System.Net;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Accounts;

/// <summary>Tokens, apps, codes and keys live in the database: a restart (or another node) honours them.</summary>
public sealed class RestartTests
{
    private static readonly Dictionary<string, string?> NoLimits = new() { ["Lenta:RateLimits:Enabled"] = "false" };

    [Fact]
    public async Task Tokens_and_codes_issued_before_a_restart_work_after_it()
    {
        var data = TempFolder.Create("lenta-restart");
        Mastodon.User user;
        Mastodon.App app;
        string code;
        var port = ServerProcess.FreePort(); // a restarted server keeps its address, and with it its OAuth issuer
        await using (var before = await TestServer.StartAsync(NoLimits, data, port))
        {
            var client = new Mastodon(before.Http);
            app = await client.RegisterAppAsync("read write", "https://client.example/cb");
            user = await client.SignUpAsync(app: app, scope: "write");
            using var flow = new OAuthFlow(before.Address);
            using var redirect = await flow.AuthorizeAsync($"response_type=code&client_id={app.ClientId}&redirect_uri={Uri.EscapeDataString("https://client.example/cb")}&scope=read", user.Email, user.Password);
            code = OAuthFlow.Query(redirect.Headers.Location!)["code"];
        }

        await using (var after = await TestServer.StartAsync(NoLimits, data, port))
        {
            var client = new Mastodon(after.Http);
            Assert.Equal(user.Id, (await client.GetAsync("api/v1/accounts/verify_credentials", user.Token)).GetProperty("id").GetString());
            using var exchange = await client.Http.PostAsync("oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = code, ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["redirect_uri"] = "https://client.example/cb",
            }));
            var token = (await Mastodon.Ok(exchange)).GetProperty("access_token").GetString();
            await client.GetAsync("api/v1/accounts/verify_credentials", token);
            using var login = await client.PasswordGrantAsync(app, user.Email, user.Password, "read");
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }
        TempFolder.Delete(data);
    }
}
