using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Platform.Database;
using Lenta.Server.Host;
using Lenta.Server.Platform.Hosting;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Posts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lenta.Bench.Social;

/// <summary>What the workloads need to know of the seeded world: who acts (with their tokens), whose pages exist, which posts to like.</summary>
public sealed record SeededWorld(
    SocialGraph Graph,
    string[] Usernames,
    long[] AccountIds,
    string[] ActorTokens,
    int[] ActorIndexes,
    long[] PosterIds,
    long[] StatusIds,
    int[][] Friends,
    TimeSpan Took);

/// <summary>
/// Writes a graph into the configured stores as the API would have: accounts and follows (with their counts) in bulk
/// through the server's own database port, one real access token per actor from the server's token service, and the
/// posts through <see cref="PostService"/> (real formatting: mentions resolve to accounts, links become anchors;
/// fan-out jobs queued and run). Runs an in-process server on the same configuration, then stops it.
/// </summary>
public static class Seeder
{
    private const string BaseUrl = "http://127.0.0.1";

    /// <summary>The settings a benchmark seeds with (in process) and then runs its server with: state in <paramref name="folder"/>, no rate limits.</summary>
    public static Dictionary<string, string?> Settings(string folder) => new()
    {
        ["Lenta:DataPath"] = folder,
        ["Lenta:LogFormat"] = "text",
        ["Lenta:RateLimits:Enabled"] = "false",
        ["Lenta:Instance:MaxCharacters"] = "1000",
    };

    /// <summary><paramref name="settings"/> as the measured child server's environment, with its diagnostics on and warnings only in its log.</summary>
    public static Dictionary<string, string?> ServerEnvironment(IReadOnlyDictionary<string, string?> settings)
    {
        var env = settings.ToDictionary(k => k.Key.Replace(":", "__", StringComparison.Ordinal), k => k.Value);
        env["Lenta__Diagnostics"] = "true";
        env["Logging__LogLevel__Default"] = "Warning";
        return env;
    }

    public static async Task<SeededWorld> SeedAsync(SocialGraph graph, IReadOnlyDictionary<string, string?> settings, Action<string> log, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var app = LentaHost.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            });
            b.WebHost.UseUrls("http://127.0.0.1:0");
        });
        await app.StartAsync(ct);
        try
        {
            var services = app.Services;
            var db = services.GetRequiredService<IDatabase>();
            var ids = services.GetRequiredService<IdGenerator>();
            var now = DateTimeOffset.UtcNow.AddDays(-30).ToUnixTimeMilliseconds();
            var prefix = graph.Name[0];
            var usernames = Enumerable.Range(0, graph.Accounts).Select(i => string.Create(CultureInfo.InvariantCulture, $"{prefix}{i}")).ToArray();
            var accountIds = Enumerable.Range(0, graph.Accounts).Select(_ => ids.Next()).ToArray();
            var followers = new int[graph.Accounts];
            var following = new int[graph.Accounts];
            var friends = new List<int>[graph.Accounts];
            for (var i = 0; i < graph.Accounts; i++)
                friends[i] = [];
            foreach (var (f, t) in graph.Follows)
            {
                followers[t]++;
                following[f]++;
                if (friends[f].Count < 50)
                    friends[f].Add(t);
            }

            const int chunk = 5_000;
            for (var start = 0; start < graph.Accounts; start += chunk)
            {
                var rows = Enumerable.Range(start, Math.Min(chunk, graph.Accounts - start)).Select(i => new
                {
                    id = accountIds[i], username = usernames[i], display = string.Create(CultureInfo.InvariantCulture, $"Reader {i}"),
                    note = "<p>Seeded by the benchmark.</p>", followers = followers[i], following = following[i], now,
                }).ToList();
                await db.WriteAsync(w => w.ExecuteAsync("""
                    INSERT INTO accounts (id, username, username_lower, display_name, note, followers_count, following_count, created_at, updated_at)
                    VALUES (@id, @username, @username, @display, @note, @followers, @following, @now, @now)
                    """, rows), ct);
            }
            log($"  {graph.Accounts:N0} accounts");
            for (var start = 0; start < graph.Follows.Count; start += chunk)
            {
                var rows = new List<object>(chunk);
                for (var i = start; i < Math.Min(graph.Follows.Count, start + chunk); i++)
                    rows.Add(new { id = ids.Next(), a = accountIds[graph.Follows[i].Follower], t = accountIds[graph.Follows[i].Target], now });
                await db.WriteAsync(w => w.ExecuteAsync("INSERT INTO follows (id, account_id, target_account_id, created_at) VALUES (@id, @a, @t, @now)", rows), ct);
            }
            log($"  {graph.Follows.Count:N0} follows");

            // A real app registered over the API, so the tokens and statuses carry it as any client's would.
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            using var registered = await http.PostAsJsonAsync("/api/v1/apps", new Dictionary<string, string>
            {
                ["client_name"] = "lenta-bench", ["redirect_uris"] = "urn:ietf:wg:oauth:2.0:oob", ["scopes"] = "read write follow",
            }, ct);
            registered.EnsureSuccessStatusCode();
            var clientId = (await registered.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("client_id").GetString()!;
            var tokens = services.GetRequiredService<AccessTokens>();
            var actorTokens = new string[graph.Actors.Length];
            await Parallel.ForEachAsync(Enumerable.Range(0, graph.Actors.Length), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (i, c) =>
                actorTokens[i] = (await tokens.IssueAsync(clientId, accountIds[graph.Actors[i]], ["read", "write", "follow"], c)).Token);
            log($"  {actorTokens.Length:N0} access tokens");

            var posts = services.GetRequiredService<PostService>();
            var work = Enumerable.Range(0, graph.Accounts).SelectMany(a => Enumerable.Repeat(a, graph.PostsPerAccount[a])).ToArray();
            var statusIds = new long[work.Length];
            var friendArrays = friends.Select(f => f.ToArray()).ToArray();
            await Parallel.ForEachAsync(Enumerable.Range(0, work.Length), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (i, c) =>
            {
                var author = work[i];
                var random = new Random(i);
                var text = PostTexts.Make(random, friendArrays[author].Select(f => usernames[f]).ToArray());
                var post = await posts.CreateAsync(accountIds[author], new NewPost(text, "public", null, null, null, null, [], null, "lenta-bench", null), BaseUrl, c);
                statusIds[i] = post.Id;
            });
            log($"  {statusIds.Length:N0} posts");
            await DrainAsync(db, ct);
            log($"  fan-out jobs done; seeded in {watch.Elapsed.TotalSeconds:N1} s");
            var posters = Enumerable.Range(0, graph.Accounts).Where(a => graph.PostsPerAccount[a] > 0).Select(a => accountIds[a]).ToArray();
            return new SeededWorld(graph, usernames, accountIds, actorTokens, graph.Actors, posters, statusIds, friendArrays, watch.Elapsed);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>Waits until the queue holds no job still to run (the seeded posts' fan-out), so the measured server starts idle.</summary>
    private static async Task DrainAsync(IDatabase db, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (await db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM jobs WHERE state IN ('ready', 'running')"), ct) > 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the seeded posts' jobs did not finish in 10 minutes");
            await Task.Delay(200, ct);
        }
    }
}
