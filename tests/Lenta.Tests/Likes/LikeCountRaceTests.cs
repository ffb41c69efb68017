using System.Net.Http.Json;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Likes;

/// <summary>
/// A like's move of the cached count comes a moment after its commit; a reader filling the count from the database in
/// that moment must not leave it counting the like twice (nor, the other way round, missing it). The moment is widened
/// here to 200 ms, so the race happens every time.
/// </summary>
public abstract class LikeCountRaceTests
{
    protected abstract Task<Dictionary<string, string?>> SettingsAsync();

    [Fact]
    public async Task A_count_filled_between_a_likes_commit_and_its_move_does_not_count_it_twice()
    {
        var counter = new StoreCounter();
        await using var server = await TestServer.StartAsync(await SettingsAsync(), decorate: StoreCounter.Decorate(counter));
        var client = new Mastodon(server.Http);
        var cache = server.Services.GetRequiredService<ICache>();
        var db = server.Services.GetRequiredService<IDatabase>();
        var author = await client.SignUpAsync();
        var fan = await client.SignUpAsync();
        var id = (await Mastodon.Ok(await client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = "raced" }))))
            .GetProperty("id").GetString()!;
        Assert.Equal(0, (await client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64()); // count cached

        counter.BeforeIncrementIfPresent = key => key == "lc:" + id ? Task.Delay(200) : Task.CompletedTask;
        var like = client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/favourite", fan.Token);
        await Eventually.WaitAsync(() => db.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM favourites WHERE status_id = @id", new { id = long.Parse(id, System.Globalization.CultureInfo.InvariantCulture) })),
            n => n == 1, TimeSpan.FromSeconds(10), "the like to commit");
        // Committed, its move not made yet: the cached count goes (evicted), and a reader fills it from the database,
        // which already counts the like.
        await cache.RemoveAsync("lc:" + id);
        Assert.Equal(1, (await client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64());
        using (var liked = await like)
            await Mastodon.Ok(liked);
        counter.BeforeIncrementIfPresent = null;

        Assert.Equal(1, (await client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64());
        Assert.Equal(1, (await client.GetAsync($"api/v1/statuses/{id}", fan.Token)).GetProperty("favourites_count").GetInt64());
    }
}

public sealed class SqliteLikeCountRaceTests : LikeCountRaceTests
{
    protected override Task<Dictionary<string, string?>> SettingsAsync() => Task.FromResult(new Dictionary<string, string?> { ["Lenta:RateLimits:Enabled"] = "false" });
}

public sealed class PostgresRedisLikeCountRaceTests : LikeCountRaceTests
{
    protected override async Task<Dictionary<string, string?>> SettingsAsync()
    {
        var settings = Redis.ServerSettings(Redis.Single);
        settings["Lenta:RateLimits:Enabled"] = "false";
        settings["Lenta:Database:Provider"] = "postgres";
        settings["Lenta:Database:ConnectionString"] = await Postgres.CreateDatabaseAsync();
        return settings;
    }
}
