using System.Globalization;
using System.Text;
using Dapper;
using Lenta.Bench.Cli;
using Lenta.Server.Feed;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Host;
using Lenta.Server.Platform.Hosting;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Posts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lenta.Bench.FanOut;

/// <summary>
/// <c>fanout</c>: time from a post's creation to its last timeline push, measured inside a real server (in-process,
/// SQLite on a temp folder, the local job queue) for authors with 39, 1,000, 10,000 and 100,000 active followers
/// seeded in the database, each with a cached timeline; plus the same largest graph under the default threshold,
/// where the author is pulled at read time instead (O(1)).
/// </summary>
internal static class FanOutCommand
{
    public static BenchCommand Command { get; } = new(
        "fanout",
        "ms from post to last timeline push, for authors with 39 / 1,000 / 10,000 / 100,000 active followers (in-process server, SQLite)",
        "[--followers 39,1000,10000,100000] [--posts N (5)] [--out FILE.md]",
        RunAsync);

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var options = BenchOptions.Parse(args, "followers", "posts", "out");
        var sizes = (options.String("followers") ?? "39,1000,10000,100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var posts = options.Int("posts", 5, 1, 100);
        var rows = new List<string>();
        foreach (var n in sizes)
            rows.Add(await MeasureAsync(n, posts, threshold: long.MaxValue / 2, ct));
        rows.Add(await MeasureAsync(sizes.Max(), posts, threshold: 10_000, ct));

        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} processors; {posts} posts per row.")
            .AppendLine()
            .AppendLine("| followers | threshold | path | followers reached | ms post → last push p50 | max | pushes/s |")
            .AppendLine("|---:|---:|---|---:|---:|---:|---:|");
        foreach (var r in rows)
            report.AppendLine(r);
        Console.Write(report.ToString());
        if (options.String("out") is { } file)
            await File.WriteAllTextAsync(file, report.ToString(), ct);
        return 0;
    }

    private static async Task<string> MeasureAsync(int followers, int posts, long threshold, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"lenta-fanout-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var app = LentaHost.Build([], b =>
            {
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Lenta:DataPath"] = folder,
                    ["Lenta:LogFormat"] = "text",
                    ["Logging:LogLevel:Default"] = "Warning",
                    ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
                    ["Lenta:RateLimits:Enabled"] = "false",
                    ["Lenta:Queue:PollIntervalMs"] = "50",
                    ["Lenta:Feed:FanOutThreshold"] = threshold.ToString(CultureInfo.InvariantCulture),
                });
                b.WebHost.UseUrls("http://127.0.0.1:0");
            });
            await app.StartAsync(ct);
            try
            {
                var services = app.Services;
                var author = await SeedAsync(services, followers, ct);
                var postService = services.GetRequiredService<PostService>();
                var metrics = services.GetRequiredService<FanOutMetrics>();
                var samples = new List<FanOutMetrics.FanOutSample>();
                for (var i = 0; i < posts; i++)
                {
                    var post = await postService.CreateAsync(author, new NewPost($"post {i} to {followers} followers", "public", null, null, null, null, [], null, null, null), "http://bench.local", ct);
                    var deadline = DateTime.UtcNow.AddMinutes(5);
                    FanOutMetrics.FanOutSample? sample = null;
                    while (sample is null && DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(5, ct);
                        sample = metrics.Recent().FirstOrDefault(s => s.StatusId == post.Id);
                    }
                    samples.Add(sample ?? throw new TimeoutException($"fan-out of post {i} did not finish"));
                }
                var times = samples.Select(s => s.MillisecondsFromPost).Order().ToList();
                var p50 = times[times.Count / 2];
                var pushed = samples.Average(s => s.Pushed);
                var path = samples.All(s => s.Pulled) ? "pull (merged at read)" : "push";
                var rate = samples.Sum(s => s.Pushed) / Math.Max(0.001, samples.Sum(s => s.MillisecondsWorking) / 1000);
                return string.Create(CultureInfo.InvariantCulture,
                    $"| {followers:N0} | {(threshold > 1_000_000_000 ? "∞" : threshold.ToString("N0", CultureInfo.InvariantCulture))} | {path} | {pushed:N0} | {p50:N1} | {times[^1]:N1} | {(path == "push" ? rate.ToString("N0", CultureInfo.InvariantCulture) : "–")} |");
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>An author and <paramref name="count"/> followers who read their feeds (activity rows, cached timelines), written as the API would have.</summary>
    private static async Task<long> SeedAsync(IServiceProvider services, int count, CancellationToken ct)
    {
        var db = services.GetRequiredService<IDatabase>();
        var ids = services.GetRequiredService<IdGenerator>();
        var cache = services.GetRequiredService<ICache>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var author = ids.Next();
        // Names of this row's own: with PostgreSQL (Lenta__Database__* in the environment) every row shares one database.
        var tag = $"r{author % 1_000_000_000}";
        await db.WriteAsync(w => w.ExecuteAsync("INSERT INTO accounts (id, username, username_lower, created_at, updated_at) VALUES (@author, @name, @name, @now, @now)",
            new { author, name = tag + "author", now }), ct);
        for (var start = 0; start < count; start += 5000)
        {
            var rows = Enumerable.Range(start, Math.Min(5000, count - start))
                .Select(i => new { id = ids.Next(), follow = ids.Next(), username = $"{tag}f{i}", author, now }).ToList();
            await db.WriteAsync(async w =>
            {
                await w.ExecuteAsync("INSERT INTO accounts (id, username, username_lower, created_at, updated_at, following_count) VALUES (@id, @username, @username, @now, @now, 1)", rows);
                await w.ExecuteAsync("INSERT INTO follows (id, account_id, target_account_id, created_at) VALUES (@follow, @id, @author, @now)", rows);
                await w.ExecuteAsync("INSERT INTO feed_activity (account_id, last_read_at) VALUES (@id, @now)", rows);
                await w.ExecuteAsync("UPDATE accounts SET followers_count = followers_count + @n WHERE id = @author", new { n = rows.Count, author });
            }, ct);
            foreach (var r in rows)
                await cache.SortedReplaceAsync(FeedService.Key(r.id), Array.Empty<long>(), 800, ct);
        }
        return author;
    }
}
