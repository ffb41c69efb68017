using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Posts;

/// <summary>
/// Small reads clients make on every screen: an account's featured tags (docs.joinmastodon.org/methods/accounts/#featured_tags)
/// and several statuses at once (docs.joinmastodon.org/methods/statuses/#index), on SQLite and PostgreSQL.
/// </summary>
public abstract class StatusLookupTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private Task<string> PostAsync(Mastodon.User user, string text, string visibility = "public") => Client.PostAsync(user, text, visibility);

    private static List<string> Ids(JsonElement array) => array.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    [Fact]
    public async Task Featured_tags_of_an_account_are_an_empty_list_and_unknown_accounts_are_404()
    {
        var alice = await Client.SignUpAsync();
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{alice.Id}/featured_tags", alice.Token)).GetArrayLength());
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{alice.Id}/featured_tags")).GetArrayLength());
        using var unknown = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/999999999/featured_tags", alice.Token);
        await Mastodon.ErrorAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Several_statuses_come_in_the_order_asked_without_unknown_deleted_or_hidden_ones()
    {
        var author = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        using (var f = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", follower.Token))
            await Mastodon.Ok(f);
        var first = await PostAsync(author, "first");
        var unlisted = await PostAsync(author, "unlisted", "unlisted");
        var secret = await PostAsync(author, "followers only", "private");
        var gone = await PostAsync(author, "deleted");
        using (var d = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{gone}", author.Token))
            await Mastodon.Ok(d);

        var query = $"api/v1/statuses?id[]={secret}&id[]={first}&id[]=999999999&id[]={gone}&id[]=nonsense&id[]={unlisted}&id[]={first}";
        Assert.Equal([secret, first, unlisted], Ids(await Client.GetAsync(query, follower.Token)));
        Assert.Equal([secret, first, unlisted], Ids(await Client.GetAsync(query, author.Token)));
        Assert.Equal([first, unlisted], Ids(await Client.GetAsync(query, stranger.Token)));
        Assert.Equal([first, unlisted], Ids(await Client.GetAsync(query)));
        // masto.js's indexed form and a single id.
        Assert.Equal([first, secret], Ids(await Client.GetAsync($"api/v1/statuses?id[0]={first}&id[1]={secret}", follower.Token)));
        Assert.Equal([first], Ids(await Client.GetAsync($"api/v1/statuses?id={first}")));
        Assert.Equal(0, (await Client.GetAsync("api/v1/statuses")).GetArrayLength());
    }
}

public sealed class SqliteStatusLookupTests(SqliteServer f) : StatusLookupTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresStatusLookupTests(PostgresServer f) : StatusLookupTests(f), IClassFixture<PostgresServer>;
