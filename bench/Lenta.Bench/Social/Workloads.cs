using System.Globalization;
using System.Text.Json;

namespace Lenta.Bench.Social;

/// <summary>A workload: a name and a source of requests (random actors, pages and posts); writes are measured against the POST ceiling.</summary>
public sealed record Workload(string Name, bool Writes, Func<BenchRequest> Next);

/// <summary>
/// DeathStarBench socialNetwork's wrk2 workloads over the Mastodon API, each by a random actor with their own token:
/// compose-post, read-home-timeline (20 statuses), read-user-timeline (a random poster's page of 20), favourite
/// (a random seeded post) and the 60/30/10 mix of home / user / compose, where a twentieth of the compose share boosts a
/// random seeded post instead of writing one (boost, 0.5 % of the mix).
/// </summary>
public static class Workloads
{
    public const string Home = "read-home-timeline";
    public const string User = "read-user-timeline";
    public const string Compose = "compose-post";
    public const string Favourite = "favourite";
    public const string Boost = "boost";
    public const string Mix = "mix-60-30-10";

    public static IReadOnlyList<Workload> For(SeededWorld world)
    {
        var actors = world.ActorTokens.Length;
        // Bodies are made up front (an actor's friends mentioned), so the generator spends its CPU on HTTP, not on text.
        var compose = Enumerable.Range(0, 1024).Select(i =>
        {
            var random = new Random(10_000 + i);
            var actor = random.Next(actors);
            var friends = world.Friends[world.ActorIndexes[actor]].Select(f => world.Usernames[f]).ToArray();
            var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["status"] = PostTexts.Make(random, friends), ["visibility"] = "public" });
            return (Token: world.ActorTokens[actor], Body: body);
        }).ToArray();

        BenchRequest HomeRequest() => new(Home, HttpMethod.Get, "/api/v1/timelines/home?limit=20", world.ActorTokens[Random.Shared.Next(actors)], null);
        BenchRequest UserRequest() => new(User, HttpMethod.Get,
            string.Create(CultureInfo.InvariantCulture, $"/api/v1/accounts/{world.PosterIds[Random.Shared.Next(world.PosterIds.Length)]}/statuses?limit=20"),
            world.ActorTokens[Random.Shared.Next(actors)], null);
        BenchRequest ComposeRequest()
        {
            var (token, body) = compose[Random.Shared.Next(compose.Length)];
            return new(Compose, HttpMethod.Post, "/api/v1/statuses", token, body);
        }
        BenchRequest FavouriteRequest() => new(Favourite, HttpMethod.Post,
            string.Create(CultureInfo.InvariantCulture, $"/api/v1/statuses/{world.StatusIds[Random.Shared.Next(world.StatusIds.Length)]}/favourite"),
            world.ActorTokens[Random.Shared.Next(actors)], null);
        // Boosting a post already boosted returns the boost (idempotent): still a write of the reblog path, as a repeated like is.
        BenchRequest BoostRequest() => new(Boost, HttpMethod.Post,
            string.Create(CultureInfo.InvariantCulture, $"/api/v1/statuses/{world.StatusIds[Random.Shared.Next(world.StatusIds.Length)]}/reblog"),
            world.ActorTokens[Random.Shared.Next(actors)], null);
        BenchRequest MixRequest()
        {
            var roll = Random.Shared.Next(1000);
            return roll < 600 ? HomeRequest() : roll < 900 ? UserRequest() : roll < 995 ? ComposeRequest() : BoostRequest();
        }

        // The mix runs first, on the data as seeded (the Reed98 shape: ~10 posts per account). After it, the closed-loop
        // compose alone adds ~200 posts per account, which would make the mix's working set a different graph's.
        return
        [
            new(Mix, false, MixRequest),
            new(Home, false, HomeRequest),
            new(User, false, UserRequest),
            new(Favourite, true, FavouriteRequest),
            new(Compose, true, ComposeRequest),
        ];
    }

    /// <summary>Where a workload's row goes in the report (the run order differs: the mix runs first).</summary>
    public static int DisplayOrder(string name) => Array.IndexOf([Home, User, Favourite, Compose, Mix], name);

    /// <summary>The bare endpoint answering the same number of bytes; writes send a 1 KB body to it.</summary>
    public static Func<BenchRequest> Ceiling(bool writes, int bytes)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"/bytes/{Math.Max(4, bytes)}");
        var kilobyte = new byte[1024];
        Array.Fill(kilobyte, (byte)' ');
        kilobyte[0] = (byte)'{';
        kilobyte[^1] = (byte)'}';
        return writes
            ? () => new BenchRequest("ceiling-post", HttpMethod.Post, path, null, kilobyte)
            : () => new BenchRequest("ceiling-get", HttpMethod.Get, path, null, null);
    }
}
