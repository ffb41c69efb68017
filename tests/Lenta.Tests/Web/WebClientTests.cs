using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Web;

/// <summary>
/// How the server serves the web client (built by scripts/build-web.sh into the output's wwwroot; test.sh builds it
/// first): the page with no-cache at / and on client routes, hashed assets with an immutable cache, and the server's
/// own paths untouched. The client itself is tested in a browser by tests/web.
/// </summary>
public sealed partial class WebClientTests
{
    [Fact]
    public async Task The_page_is_served_at_the_root_and_on_client_routes_with_no_cache()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "wwwroot", "index.html")),
            "the web client is not built: run scripts/build-web.sh before building the tests (test.sh does)");
        await using var server = await TestServer.StartAsync();
        foreach (var path in new[] { "", "@alice", "statuses/123", "search?q=x" })
        {
            using var page = await server.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.True(page.Headers.CacheControl?.NoCache, path);
            Assert.Contains("<div id=\"app\">", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Hashed_assets_are_immutable_and_unknown_ones_are_404()
    {
        await using var server = await TestServer.StartAsync();
        var html = await server.Http.GetStringAsync("");
        var scripts = AssetPattern().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var asset in scripts)
        {
            using var file = await server.Http.GetAsync(asset.TrimStart('/'));
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.Equal("public, max-age=31536000, immutable", file.Headers.CacheControl?.ToString());
            Assert.True(file.Content.Headers.ContentLength > 0);
        }
        using var missing = await server.Http.GetAsync("assets/index-nothere.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var dotted = await server.Http.GetAsync("assets/..%2Findex.html");
        Assert.Equal(HttpStatusCode.NotFound, dotted.StatusCode);
        using var icon = await server.Http.GetAsync("favicon.ico");
        Assert.Equal(HttpStatusCode.OK, icon.StatusCode);
    }

    [Fact]
    public async Task The_servers_own_paths_keep_their_answers()
    {
        await using var server = await TestServer.StartAsync();
        foreach (var path in new[] { "api/v1/nothing-here", "oauth/nothing", "system/x", ".well-known/nothing", "nodeinfo/9.9", "_diag/nothing", "x.png" })
        {
            using var r = await server.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Record not found", (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }
        using var wrongMethod = await server.Http.GetAsync("api/v1/apps");   // POST only
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        using var post = await server.Http.PostAsync("@alice", null);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        using var health = await server.Http.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [GeneratedRegex("(?:src|href)=\"(/assets/[^\"]+)\"")]
    private static partial Regex AssetPattern();
}
