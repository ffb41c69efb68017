using System.Globalization;
using System.Net.Http.Json;
using Dapper;
using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Likes;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Feed;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Likes;

/// <summary>A SQLite server of its own whose like write-behind is stopped, so the test alone drives the fold, a step at a time.</summary>
public sealed class SqliteFoldServer() : ServerFixture(DbProvider.Sqlite);

/// <summary>
/// SQLite folds likes in steps, each its own transaction (a range of accounts into one list, a range of posts into the
/// other and the counts, then the marking): in every state between two steps each like is counted and listed exactly
/// once, and unlikes, new likes and a post's delete in the middle of a fold leave nothing behind.
/// </summary>
public sealed class LikeFoldStepTests(SqliteFoldServer fixture) : IClassFixture<SqliteFoldServer>
{
    private Mastodon Client => fixture.Client;

    private IDatabase Db => fixture.Server.Services.GetRequiredService<IDatabase>();

    [Fact]
    public async Task Every_state_of_a_fold_in_steps_counts_and_lists_each_like_once()
    {
        await fixture.Server.Services.GetRequiredService<LikeWriteBehind>().StopAsync(CancellationToken.None);
        var likes = fixture.Server.Services.GetRequiredService<LikesService>();
        var author = await Client.SignUpAsync();
        var posts = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = $"p{i}" }));
            posts.Add((await Mastodon.Ok(r)).GetProperty("id").GetString()!);
        }
        var seeded = await Seed.FollowersAsync(fixture.Server.Services, long.Parse(author.Id, CultureInfo.InvariantCulture), 8);
        var tokens = fixture.Server.Services.GetRequiredService<AccessTokens>();
        var likers = new List<(string Id, string Token)>();
        foreach (var id in seeded)
            likers.Add((id.ToString(CultureInfo.InvariantCulture), (await tokens.IssueAsync("seeded", id, ["read", "write"])).Token));

        // Who likes what: every liker every post, in a shuffled order (so ids do not follow accounts or posts).
        var liked = new HashSet<(int Liker, int Post)>();
        foreach (var (l, p) in Enumerable.Range(0, likers.Count).SelectMany(l => Enumerable.Range(0, posts.Count).Select(p => (l, p))).OrderBy(x => (x.l * 7 + x.p * 5) % 11))
            await SetAsync(l, p, true);

        async Task SetAsync(int liker, int post, bool like)
        {
            using var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{posts[post]}/{(like ? "favourite" : "unfavourite")}", likers[liker].Token);
            await Mastodon.Ok(r);
            if (like)
                liked.Add((liker, post));
            else
                liked.Remove((liker, post));
        }

        var deleted = -1;
        async Task CheckAsync(string when)
        {
            await fixture.Server.Services.GetRequiredService<ICache>().ClearAsync(); // counts from the database
            for (var p = 0; p < posts.Count; p++)
            {
                if (p == deleted)
                    continue;
                var expected = liked.Where(x => x.Post == p).Select(x => likers[x.Liker].Id).Order().ToList();
                Assert.True(expected.Count == (await Client.GetAsync($"api/v1/statuses/{posts[p]}")).GetProperty("favourites_count").GetInt64(), $"count of post {p} {when}");
                var by = (await Client.GetAsync($"api/v1/statuses/{posts[p]}/favourited_by?limit=80")).EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToList();
                Assert.True(expected.SequenceEqual(by.Order()), $"likers of post {p} {when}: {string.Join(",", by)}");
            }
            for (var l = 0; l < likers.Count; l++)
            {
                var expected = liked.Where(x => x.Liker == l && x.Post != deleted).Select(x => posts[x.Post]).Order().ToList();
                using var r = await Client.SendAsync(HttpMethod.Get, "api/v1/favourites?limit=40", likers[l].Token);
                var mine = (await Mastodon.Ok(r)).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
                Assert.True(expected.SequenceEqual(mine.Order()), $"likes of liker {l} {when}: {string.Join(",", mine)}");
            }
        }

        await CheckAsync("before the fold");
        var steps = 0;
        var marked = 0;
        while (true)
        {
            var (n, done) = await likes.FoldStepAsync(limit: 10_000, step: 3, CancellationToken.None);
            marked += n;
            steps++;
            switch (steps)
            {
                case 2: // by-account ranges under way: a folded one's like and an unfolded one's taken back, a like anew
                    await SetAsync(0, 1, false);
                    await SetAsync(7, 2, false);
                    await SetAsync(7, 2, true);
                    break;
                case 11: // by-post ranges under way (the by-account ones took a step for each of 8 likers, and one to begin): the post is deleted with its likes
                    deleted = 3;
                    using (var r = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{posts[3]}", author.Token))
                        await Mastodon.Ok(r);
                    liked.RemoveWhere(x => x.Post == 3);
                    break;
                case 16: // marking under way
                    await SetAsync(1, 0, false);
                    await SetAsync(6, 2, false);
                    break;
            }
            await CheckAsync($"after step {steps}");
            if (done)
                break;
        }
        Assert.InRange(steps, 10, 200);
        Assert.True(marked > 0);

        // The likes made during the fold are left to the next one; then everything is folded, once.
        while (!(await likes.FoldStepAsync(10_000, 3, CancellationToken.None)).Done)
        {
        }
        await CheckAsync("after the second fold");
        var ids = posts.Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToList();
        var truth = await Db.ReadAsync(c => c.QuerySingleAsync<(long Rows, long Unfolded, long Stored, long ByStatus, long ByAccount, long Upto)>($"""
            SELECT (SELECT COUNT(*) FROM favourites WHERE status_id IN ({string.Join(",", ids)})),
                   (SELECT COUNT(*) FROM favourites WHERE folded = 0),
                   (SELECT COALESCE(SUM(favourites_count), 0) FROM favourite_counts WHERE status_id IN ({string.Join(",", ids)})),
                   (SELECT COUNT(*) FROM favourites_by_status WHERE status_id IN ({string.Join(",", ids)})),
                   (SELECT COUNT(*) FROM favourites_by_account WHERE status_id IN ({string.Join(",", ids)})),
                   (SELECT upto FROM likes_fold)
            """));
        Assert.Equal((liked.Count, 0L, liked.Count, liked.Count, liked.Count, 0L), (truth.Rows, truth.Unfolded, truth.Stored, truth.ByStatus, truth.ByAccount, truth.Upto));
    }
}
