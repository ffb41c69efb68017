using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Posts;

/// <summary>Posts, pages and single posts over real HTTP (docs.joinmastodon.org/methods/statuses), on SQLite and PostgreSQL.</summary>
public abstract class PostsTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private async Task<JsonElement> PostAsync(Mastodon.User user, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/statuses") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", user.Token);
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await Client.Http.SendAsync(request);
        return await Mastodon.Ok(response);
    }

    private async Task<HttpResponseMessage> PostRawAsync(Mastodon.User user, object body) =>
        await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(body));

    private Task FollowAsync(Mastodon.User follower, Mastodon.User target) => Client.FollowAsync(follower, target);

    /// <summary>
    /// Timelines and single posts are written from cached JSON fragments; the delete answer is still serialized from
    /// a whole entity. The two must agree on every field but content/text, for a post with everything in it — and
    /// again after the author's counts changed (the cached account JSON must follow).
    /// </summary>
    [Fact]
    public async Task Cached_status_json_equals_the_entity_serialization()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var parent = await PostAsync(bob, new { status = "parent" });
        var status = await PostAsync(alice, new
        {
            status = $"Hi @{bob.Username} <b>&</b> \"quotes\" émoji 🎉 #Tagged https://example.com/x?a=1&b=2",
            in_reply_to_id = parent.GetProperty("id").GetString(), spoiler_text = "cw", language = "fr",
        });
        var id = status.GetProperty("id").GetString();
        using (var like = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/favourite", bob.Token))
            await Mastodon.Ok(like);
        await PostAsync(alice, new { status = "another, so statuses_count moved after the first was cached" });

        var fetched = await Client.GetAsync($"api/v1/statuses/{id}", alice.Token);
        using var deleted = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", alice.Token);
        var entity = await Mastodon.Ok(deleted);

        var cached = System.Text.Json.Nodes.JsonNode.Parse(fetched.GetRawText())!.AsObject();
        var whole = System.Text.Json.Nodes.JsonNode.Parse(entity.GetRawText())!.AsObject();
        Assert.NotNull(cached["content"]);
        Assert.NotNull(whole["text"]);
        cached.Remove("content");
        whole.Remove("text");
        Assert.Equal(2, cached["account"]!["statuses_count"]!.GetValue<long>());
        Assert.Equal(1, whole["account"]!["statuses_count"]!.GetValue<long>()); // the delete answer counts after the delete
        cached["account"]!.AsObject().Remove("statuses_count");
        whole["account"]!.AsObject().Remove("statuses_count");
        Assert.Equal(1, cached["favourites_count"]!.GetValue<long>());
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(cached, whole), $"cached:\n{cached.ToJsonString()}\nentity:\n{whole.ToJsonString()}");
    }

    /// <summary>
    /// A cached post lets its content go once its JSON is rendered (the rendering holds it). Rendering it again for
    /// another host name, and as a whole entity in a thread's context, must still give the full content.
    /// </summary>
    [Fact]
    public async Task A_rendered_post_keeps_its_content_for_another_host_and_for_the_thread()
    {
        var alice = await Client.SignUpAsync();
        var parent = await PostAsync(alice, new { status = "parent of the thread" });
        var reply = await PostAsync(alice, new { status = "the reply, with <b>markup</b> & #Tag", in_reply_to_id = parent.GetProperty("id").GetString() });
        var id = reply.GetProperty("id").GetString();
        var content = reply.GetProperty("content").GetString();
        Assert.Contains("the reply, with", content);

        var first = await Client.GetAsync($"api/v1/statuses/{id}", alice.Token); // rendered for this host: the content goes
        Assert.Equal(content, first.GetProperty("content").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/statuses/{id}");
        request.Headers.Authorization = new("Bearer", alice.Token);
        request.Headers.Host = "other-name.example";
        var other = await Mastodon.Ok(await Client.Http.SendAsync(request));
        // Links follow the request's host, unless the server has a public URL (every node behind a front has): then always it.
        var publicUrl = fixture.Server.Services.GetRequiredService<IConfiguration>()["Lenta:PublicUrl"];
        Assert.StartsWith(publicUrl is null ? "http://other-name.example/" : publicUrl.TrimEnd('/') + "/", other.GetProperty("url").GetString());
        Assert.Equal(content, other.GetProperty("content").GetString());

        var context = await Client.GetAsync($"api/v1/statuses/{parent.GetProperty("id").GetString()}/context", alice.Token);
        Assert.Equal(content, context.GetProperty("descendants")[0].GetProperty("content").GetString());
        Assert.Equal(content, (await Client.GetAsync($"api/v1/statuses/{id}", alice.Token)).GetProperty("content").GetString());
    }

    [Fact]
    public async Task A_post_comes_back_as_a_complete_status()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var status = await PostAsync(alice, new { status = $"Hello @{bob.Username} & friends <3 #Lenta https://example.com", spoiler_text = "cw", language = "en" });
        Assert.Matches("^[0-9]+$", status.GetProperty("id").GetString());
        Assert.Equal("public", status.GetProperty("visibility").GetString());
        Assert.True(status.GetProperty("sensitive").GetBoolean()); // a content warning makes it sensitive
        Assert.Equal("cw", status.GetProperty("spoiler_text").GetString());
        Assert.Equal("en", status.GetProperty("language").GetString());
        Assert.Equal(alice.Id, status.GetProperty("account").GetProperty("id").GetString());
        var content = status.GetProperty("content").GetString()!;
        Assert.StartsWith("<p>Hello <span class=\"h-card\"", content, StringComparison.Ordinal);
        Assert.Contains("&amp; friends &lt;3", content, StringComparison.Ordinal);
        Assert.Equal(bob.Id, status.GetProperty("mentions")[0].GetProperty("id").GetString());
        Assert.Equal(bob.Username, status.GetProperty("mentions")[0].GetProperty("acct").GetString());
        Assert.Equal("lenta", status.GetProperty("tags")[0].GetProperty("name").GetString());
        Assert.EndsWith($"/@{alice.Username}/{status.GetProperty("id").GetString()}", status.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Equal("tests", status.GetProperty("application").GetProperty("name").GetString());
        foreach (var key in new[] { "replies_count", "reblogs_count", "favourites_count" })
            Assert.Equal(0, status.GetProperty(key).GetInt64());
        foreach (var key in new[] { "favourited", "reblogged", "muted", "bookmarked", "pinned" })
            Assert.False(status.GetProperty(key).GetBoolean(), key);
        foreach (var key in new[] { "media_attachments", "emojis", "filtered" })
            Assert.Equal(JsonValueKind.Array, status.GetProperty(key).ValueKind);
        foreach (var key in new[] { "card", "poll", "reblog", "in_reply_to_id", "edited_at" })
            Assert.Equal(JsonValueKind.Null, status.GetProperty(key).ValueKind);

        var me = await Client.GetAsync($"api/v1/accounts/{alice.Id}");
        Assert.Equal(1, me.GetProperty("statuses_count").GetInt64());
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), me.GetProperty("last_status_at").GetString());

        var anonymous = await Client.GetAsync($"api/v1/statuses/{status.GetProperty("id").GetString()}");
        Assert.False(anonymous.TryGetProperty("favourited", out _)); // viewer flags only with a user token
        Assert.False(anonymous.TryGetProperty("application", out _)); // shown to the author only
    }

    [Fact]
    public async Task Bad_posts_are_a_422_and_write_nothing()
    {
        var alice = await Client.SignUpAsync();
        var cases = new (object Body, string Error)[]
        {
            (new { status = "   " }, "Validation failed: Text can't be blank"),
            (new { status = new string('a', 501) }, "Validation failed: Text character limit of 500 exceeded"),
            (new { status = new string('a', 250), spoiler_text = new string('b', 251) }, "Validation failed: Text character limit of 500 exceeded"),
            (new { status = "hi", visibility = "secret" }, "Validation failed: Visibility is not included in the list"),
            (new { status = "hi", media_ids = new[] { "123" } }, "Validation failed: Media attachments not found or already attached: 123"),
            (new { status = "hi", media_ids = new[] { "1", "2", "3", "4", "5" } }, "Cannot attach more than 4 files"),
        };
        foreach (var (body, error) in cases)
        {
            using var response = await PostRawAsync(alice, body);
            Assert.Equal(error, await Mastodon.ErrorAsync(response, HttpStatusCode.UnprocessableEntity));
        }
        using var unknownParent = await PostRawAsync(alice, new { status = "hi", in_reply_to_id = "999999999" });
        Assert.Equal("The post you are trying to reply to does not appear to exist.", await Mastodon.ErrorAsync(unknownParent, HttpStatusCode.NotFound));
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{alice.Id}")).GetProperty("statuses_count").GetInt64());

        // 500 characters exactly, and a link counting 23 whatever its length, are fine.
        await PostAsync(alice, new { status = new string('a', 500) });
        await PostAsync(alice, new { status = new string('a', 477) + "https://example.com/" + new string('x', 200) });
        using var anonymous = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", content: JsonContent.Create(new { status = "hi" }));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_retried_post_with_the_same_idempotency_key_is_the_first_post()
    {
        var alice = await Client.SignUpAsync();
        var key = Guid.NewGuid().ToString();
        var first = await PostAsync(alice, new { status = "once" }, key);
        var again = await PostAsync(alice, new { status = "once" }, key);
        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => PostAsync(alice, new { status = "burst" }, key + "-2")));
        Assert.Single(concurrent.Select(s => s.GetProperty("id").GetString()).Distinct());
        Assert.Equal(2, (await Client.GetAsync($"api/v1/accounts/{alice.Id}")).GetProperty("statuses_count").GetInt64());

        var bob = await Client.SignUpAsync();
        var bobs = await PostAsync(bob, new { status = "mine" }, key); // keys belong to their account
        Assert.NotEqual(first.GetProperty("id").GetString(), bobs.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Deleting_returns_the_source_and_the_post_is_gone_everywhere()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var status = await PostAsync(alice, new { status = "to be <deleted>" });
        var id = status.GetProperty("id").GetString();
        await Client.GetAsync($"api/v1/statuses/{id}"); // cached now

        using var notOwner = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", bob.Token);
        Assert.Equal(HttpStatusCode.NotFound, notOwner.StatusCode);

        using var delete = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", alice.Token);
        var deleted = await Mastodon.Ok(delete);
        Assert.Equal("to be <deleted>", deleted.GetProperty("text").GetString());
        Assert.False(deleted.TryGetProperty("content", out _));

        using var gone = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses")).GetArrayLength());
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{alice.Id}")).GetProperty("statuses_count").GetInt64());
        using var twice = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", alice.Token);
        Assert.Equal(HttpStatusCode.NotFound, twice.StatusCode);
    }

    [Fact]
    public async Task Pages_are_newest_first_with_cursors_and_filters()
    {
        var alice = await Client.SignUpAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await PostAsync(alice, new { status = $"post {i} #n{i % 2}" })).GetProperty("id").GetString()!);
        var reply = await PostAsync(alice, new { status = "self reply", in_reply_to_id = ids[0] });
        var other = await Client.SignUpAsync();
        var otherPost = await PostAsync(other, new { status = "other's" });
        var replyToOther = await PostAsync(alice, new { status = "reply to other", in_reply_to_id = otherPost.GetProperty("id").GetString() });
        ids.Add(reply.GetProperty("id").GetString()!);
        ids.Add(replyToOther.GetProperty("id").GetString()!);
        ids.Reverse();

        using var first = await Client.SendAsync(HttpMethod.Get, $"api/v1/accounts/{alice.Id}/statuses?limit=3");
        var page = await Mastodon.Ok(first);
        Assert.Equal(ids.Take(3), page.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        var link = first.Headers.GetValues("Link").Single();
        Assert.Contains($"max_id={ids[2]}", link, StringComparison.Ordinal);
        Assert.Contains($"min_id={ids[0]}", link, StringComparison.Ordinal);

        var second = await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses?limit=3&max_id={ids[2]}");
        Assert.Equal(ids.Skip(3).Take(3), second.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        var newer = await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses?limit=2&min_id={ids[4]}");
        Assert.Equal([ids[2], ids[3]], newer.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        var since = await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses?limit=2&since_id={ids[4]}");
        Assert.Equal([ids[0], ids[1]], since.EnumerateArray().Select(s => s.GetProperty("id").GetString()));

        var noReplies = await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses?exclude_replies=true");
        var noReplyIds = noReplies.EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList();
        Assert.Contains(reply.GetProperty("id").GetString(), noReplyIds); // self-replies stay
        Assert.DoesNotContain(replyToOther.GetProperty("id").GetString(), noReplyIds);
        Assert.Equal(3, (await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses?tagged=n0")).GetArrayLength());
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses?only_media=true")).GetArrayLength());
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses?pinned=true")).GetArrayLength());
        using var unknown = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/999999999/statuses");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Private_posts_reach_only_the_author_accepted_followers_and_the_mentioned()
    {
        var author = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        var mentioned = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        await FollowAsync(follower, author);
        var secret = await PostAsync(author, new { status = $"for my followers and @{mentioned.Username}", visibility = "private" });
        var open = await PostAsync(author, new { status = "for all", visibility = "unlisted" });
        var id = secret.GetProperty("id").GetString();

        foreach (var (viewer, sees) in new (Mastodon.User? Viewer, bool Sees)[] { (author, true), (follower, true), (mentioned, true), (stranger, false), (null, false) })
        {
            using var single = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{id}", viewer?.Token);
            Assert.Equal(sees ? HttpStatusCode.OK : HttpStatusCode.NotFound, single.StatusCode);
            var page = (await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", viewer?.Token)).EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList();
            Assert.Equal(sees, page.Contains(id));
            Assert.Contains(open.GetProperty("id").GetString(), page);
            using var replying = await PostRawAsync(viewer ?? stranger, new { status = "re", in_reply_to_id = id });
            if (viewer is not null && viewer != author)
                Assert.Equal(sees ? HttpStatusCode.OK : HttpStatusCode.NotFound, replying.StatusCode);
        }

        // A locked account's pending follower is not a follower.
        var locked = await Client.SignUpAsync();
        using (await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", locked.Token, JsonContent.Create(new { locked = true })))
        {
        }
        var hopeful = await Client.SignUpAsync();
        await FollowAsync(hopeful, locked);
        var lockedPost = await PostAsync(locked, new { status = "approved only", visibility = "private" });
        using var pending = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{lockedPost.GetProperty("id").GetString()}", hopeful.Token);
        Assert.Equal(HttpStatusCode.NotFound, pending.StatusCode);
    }

    /// <summary>
    /// Profile pages of others are read from the cached ids (ProfileCache) with visibility applied afterwards. Paged to
    /// the end by each kind of viewer, they must equal what the database says — past the cached ids' cap, after
    /// deletes, and again after the cache is wiped.
    /// </summary>
    [Fact]
    public async Task Profile_pages_from_cached_ids_equal_the_database_for_every_viewer()
    {
        var author = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        var mentioned = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        await FollowAsync(follower, author);
        Assert.Empty((await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", stranger.Token)).EnumerateArray()); // cached while empty
        var posts = new List<(long Id, string Visibility, bool Mentions)>();
        for (var i = 0; i < Lenta.Server.Posts.ProfileCache.Size + 40; i++)
        {
            var visibility = i % 7 == 3 ? "direct" : i % 5 == 1 ? "private" : i % 9 == 2 ? "unlisted" : "public"; // direct: the owner's page only
            var mentions = i % 3 == 0;
            var post = await PostAsync(author, new { status = mentions ? $"{i} hello @{mentioned.Username}" : $"{i}", visibility });
            posts.Add((long.Parse(post.GetProperty("id").GetString()!), visibility, mentions));
        }
        foreach (var gone in new[] { posts[^1], posts[^25], posts[100], posts[0] })
        {
            using var deleted = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{gone.Id}", author.Token);
            await Mastodon.Ok(deleted);
            posts.Remove(gone);
        }

        async Task<List<long>> PageThroughAsync(Mastodon.User? viewer)
        {
            var seen = new List<long>();
            string? max = null;
            while (true)
            {
                var page = (await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses?limit=40{(max is null ? "" : $"&max_id={max}")}", viewer?.Token))
                    .EnumerateArray().Select(s => long.Parse(s.GetProperty("id").GetString()!)).ToList();
                seen.AddRange(page);
                if (page.Count < 40)
                    return seen;
                max = page[^1].ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var (viewer, follows, isMentioned) in new (Mastodon.User? Viewer, bool Follows, bool Mentioned)[] { (stranger, false, false), (follower, true, false), (mentioned, false, true), (null, false, false) })
            {
                var expected = posts.Where(p => p.Visibility is "public" or "unlisted" || (p.Visibility == "private" && (follows || (isMentioned && p.Mentions))))
                    .Select(p => p.Id).OrderDescending().ToList();
                Assert.Equal(expected, await PageThroughAsync(viewer));
            }
            await fixture.Server.Services.GetRequiredService<Lenta.Server.Platform.Cache.ICache>().ClearAsync();
        }
        var own = await PageThroughAsync(author); // the owner's own page comes from the database
        Assert.Equal(posts.Select(p => p.Id).OrderDescending(), own);
    }

    [Fact]
    public async Task Context_shows_the_visible_thread_around_a_post()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var root = await PostAsync(alice, new { status = "root" });
        Assert.Equal(0, (await Client.GetAsync($"api/v1/statuses/{root.GetProperty("id").GetString()}")).GetProperty("replies_count").GetInt64()); // now cached
        var a = await PostAsync(bob, new { status = "a", in_reply_to_id = root.GetProperty("id").GetString() });
        var a1 = await PostAsync(alice, new { status = "a1", in_reply_to_id = a.GetProperty("id").GetString() });
        var b = await PostAsync(bob, new { status = "b", in_reply_to_id = root.GetProperty("id").GetString() });
        var hidden = await PostAsync(alice, new { status = "private reply", visibility = "private", in_reply_to_id = b.GetProperty("id").GetString() });

        var context = await Client.GetAsync($"api/v1/statuses/{a.GetProperty("id").GetString()}/context");
        Assert.Equal([root.GetProperty("id").GetString()], context.GetProperty("ancestors").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.Equal([a1.GetProperty("id").GetString()], context.GetProperty("descendants").EnumerateArray().Select(s => s.GetProperty("id").GetString()));

        var whole = await Client.GetAsync($"api/v1/statuses/{root.GetProperty("id").GetString()}/context");
        Assert.Empty(whole.GetProperty("ancestors").EnumerateArray());
        Assert.Equal(new[] { a, a1, b }.Select(s => s.GetProperty("id").GetString()), whole.GetProperty("descendants").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        var asAuthor = await Client.GetAsync($"api/v1/statuses/{root.GetProperty("id").GetString()}/context", alice.Token);
        Assert.Contains(hidden.GetProperty("id").GetString(), asAuthor.GetProperty("descendants").EnumerateArray().Select(s => s.GetProperty("id").GetString()));

        var parent = await Client.GetAsync($"api/v1/statuses/{root.GetProperty("id").GetString()}");
        Assert.Equal(2, parent.GetProperty("replies_count").GetInt64()); // direct replies; never stale after a reply
        Assert.Equal(root.GetProperty("id").GetString(), a.GetProperty("in_reply_to_id").GetString());
        Assert.Equal(alice.Id, a.GetProperty("in_reply_to_account_id").GetString());
    }

    [Fact]
    public async Task Posts_read_through_the_cache_equal_posts_read_from_the_database()
    {
        var alice = await Client.SignUpAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await PostAsync(alice, new { status = $"cache {i}" })).GetProperty("id").GetString()!);
        var warm = await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses");
        await fixture.Server.Services.GetRequiredService<Lenta.Server.Platform.Cache.ICache>().ClearAsync();
        var cold = await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses");
        Assert.Equal(warm.GetRawText(), cold.GetRawText());
    }

    [Theory]
    [InlineData("form")]
    [InlineData("multipart")]
    public async Task Posts_accept_form_and_multipart_bodies(string encoding)
    {
        var alice = await Client.SignUpAsync();
        var fields = new Dictionary<string, string> { ["status"] = "via " + encoding, ["visibility"] = "unlisted", ["sensitive"] = "true" };
        HttpContent content = encoding == "form" ? new FormUrlEncodedContent(fields) : Multipart(fields);
        using var response = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", alice.Token, content);
        var status = await Mastodon.Ok(response);
        Assert.Equal("unlisted", status.GetProperty("visibility").GetString());
        Assert.True(status.GetProperty("sensitive").GetBoolean());
    }

    private static MultipartFormDataContent Multipart(Dictionary<string, string> fields)
    {
        var content = new MultipartFormDataContent();
        foreach (var (k, v) in fields)
            content.Add(new StringContent(v), k);
        return content;
    }
}

public sealed class SqlitePostsTests(SqliteServer f) : PostsTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresPostsTests(PostgresServer f) : PostsTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisPostsTests(PostgresRedisServer f) : PostsTests(f), IClassFixture<PostgresRedisServer>;
