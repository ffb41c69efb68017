using System.Net;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Cluster;

/// <summary>
/// A small compose + like + read load through the front, for the fault drills: two authors post, three followers of both
/// like what was posted and read their homes and single posts. It records what the cluster acknowledged (posts, likes)
/// and every failed request, so that a drill can check its failures and then that nothing acknowledged was lost.
/// </summary>
public sealed class ClusterLoad
{
    private readonly ClusterFixture _cluster;
    private readonly HttpClient _http;
    private readonly Mastodon _client;
    private readonly List<Mastodon.User> _authors = [];
    private readonly List<Mastodon.User> _followers = [];
    private readonly List<string> _posts = [];
    private readonly List<(Mastodon.User User, string Post)> _likes = [];
    private readonly List<Failure> _failures = [];
    private readonly CancellationTokenSource _stop = new();
    private List<Task> _loops = [];

    /// <summary>A request that did not succeed: its kind (compose, like, read), status (0: no response) and what came back.</summary>
    public sealed record Failure(string Kind, int Status, bool RetryAfter, string Detail, DateTime At);

    private ClusterLoad(ClusterFixture cluster)
    {
        _cluster = cluster;
        // Longer than any outage of a drill: a request that hangs past it is a failure of its own (status 0, a timeout).
        _http = cluster.Client(timeout: TimeSpan.FromSeconds(20));
        _client = new Mastodon(_http);
    }

    public static async Task<ClusterLoad> StartAsync(ClusterFixture cluster)
    {
        var load = new ClusterLoad(cluster);
        for (var i = 0; i < 2; i++)
            load._authors.Add(await cluster.SignUpAsync());
        for (var i = 0; i < 3; i++)
        {
            var f = await cluster.SignUpAsync();
            foreach (var a in load._authors)
                await Mastodon.Ok(await load._client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{a.Id}/follow", f.Token));
            await load._client.GetAsync("api/v1/timelines/home", f.Token); // cached: from now on only fan-out adds to it
            load._followers.Add(f);
        }
        var ct = load._stop.Token;
        load._loops = [.. load._authors.Select(a => Task.Run(() => load.ComposeAsync(a, ct))), Task.Run(() => load.LikeAsync(ct)), Task.Run(() => load.ReadAsync(ct))];
        return load;
    }

    public int Posts => Count(_posts);

    public IReadOnlyList<Failure> Failures
    {
        get
        {
            lock (_failures)
                return [.. _failures];
        }
    }

    /// <summary>Waits until <paramref name="more"/> posts beyond those acknowledged so far are acknowledged: the service is whole.</summary>
    public async Task AwaitProgressAsync(int more, TimeSpan within, string what)
    {
        var from = Posts;
        await Eventually.WaitAsync(() => Task.FromResult(Posts), n => n >= from + more, within, what);
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    /// <summary>Every acknowledged post is there, every acknowledged like is on its post, every follower's home holds every post.</summary>
    public async Task VerifyNothingLostAsync()
    {
        List<string> posts;
        lock (_posts)
            posts = [.. _posts];
        Assert.True(posts.Count >= 10, $"only {posts.Count} posts were acknowledged");
        foreach (var f in _followers)
        {
            var missing = await Eventually.WaitAsync(async () => posts.Except(await AllHomeIdsAsync(f)).ToList(), m => m.Count == 0,
                TimeSpan.FromSeconds(90), "every acknowledged post in every follower's home");
            Assert.Empty(missing);
        }
        List<(Mastodon.User User, string Post)> likes;
        lock (_likes)
            likes = [.. _likes];
        Assert.NotEmpty(likes);
        foreach (var (user, post) in likes)
        {
            var status = await _client.GetAsync($"api/v1/statuses/{post}", user.Token);
            Assert.True(status.GetProperty("favourited").GetBoolean(), $"the acknowledged like of {post} is gone");
        }
    }

    private async Task ComposeAsync(Mastodon.User author, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (await TryAsync("compose", HttpMethod.Post, "api/v1/statuses", author.Token,
                    new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "under load" })) is { } body)
            {
                lock (_posts)
                    _posts.Add(body.GetProperty("id").GetString()!);
            }
            await Pause(100, ct);
        }
    }

    private async Task LikeAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var post = Pick(_posts);
            var user = _followers[Random.Shared.Next(_followers.Count)];
            if (post is not null && await TryAsync("like", HttpMethod.Post, $"api/v1/statuses/{post}/favourite", user.Token) is not null)
            {
                lock (_likes)
                    _likes.Add((user, post));
            }
            await Pause(100, ct);
        }
    }

    private async Task ReadAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var user = _followers[Random.Shared.Next(_followers.Count)];
            await TryAsync("read", HttpMethod.Get, "api/v1/timelines/home?limit=20", user.Token);
            if (Pick(_posts) is { } post)
                await TryAsync("read", HttpMethod.Get, $"api/v1/statuses/{post}", user.Token);
            await Pause(50, ct);
        }
    }

    /// <summary>One request; its JSON body on success, null (and a recorded failure) otherwise.</summary>
    private async Task<JsonElement?> TryAsync(string kind, HttpMethod method, string path, string token, HttpContent? content = null)
    {
        try
        {
            using var r = await _client.SendAsync(method, path, token, content);
            var text = await r.Content.ReadAsStringAsync();
            if (r.IsSuccessStatusCode)
                return JsonDocument.Parse(text).RootElement.Clone();
            Record(new Failure(kind, (int)r.StatusCode, r.Headers.RetryAfter is not null, text.Length > 300 ? text[..300] : text, DateTime.UtcNow));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            Record(new Failure(kind, 0, false, $"{e.GetType().Name}: {e.Message}", DateTime.UtcNow));
        }
        return null;
    }

    private void Record(Failure failure)
    {
        lock (_failures)
            _failures.Add(failure);
    }

    private async Task<HashSet<string>> AllHomeIdsAsync(Mastodon.User user)
    {
        var ids = new HashSet<string>();
        string? maxId = null;
        while (true)
        {
            var page = (await _client.GetAsync($"api/v1/timelines/home?limit=40{(maxId is null ? "" : "&max_id=" + maxId)}", user.Token)).EnumerateArray()
                .Select(s => s.GetProperty("id").GetString()!).ToList();
            if (page.Count == 0)
                return ids;
            ids.UnionWith(page);
            maxId = page[^1];
        }
    }

    private static string? Pick(List<string> list)
    {
        lock (list)
            return list.Count == 0 ? null : list[Random.Shared.Next(list.Count)];
    }

    private static int Count<T>(List<T> list)
    {
        lock (list)
            return list.Count;
    }

    private static async Task Pause(int ms, CancellationToken ct)
    {
        try
        {
            await Task.Delay(ms, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override string ToString() =>
        $"{Posts} posts, {Count(_likes)} likes acknowledged; failures: " +
        string.Join("; ", Failures.GroupBy(f => (f.Kind, f.Status)).Select(g => $"{g.Key.Kind} {g.Key.Status} ×{g.Count()} ({g.First().Detail})"));

    /// <summary>A refusal to retry later: 503 with Retry-After.</summary>
    public static bool IsUnavailable(Failure f) => f.Status == (int)HttpStatusCode.ServiceUnavailable && f.RetryAfter;
}
