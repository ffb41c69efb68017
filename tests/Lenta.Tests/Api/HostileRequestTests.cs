using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Api;

/// <summary>
/// Requests an attacker or a careless client sends, each case once, against a real server: every one ends in a 4xx
/// with Mastodon's <c>{"error": …}</c>, never a 500, and none leaves an unhandled exception in the log.
/// </summary>
public abstract class HostileRequestTests(ServerWithLogs fixture)
{
    private Mastodon Client => fixture.Client;

    private Uri Server => fixture.Server.Address;

    private void AssertNoUnhandledException() =>
        Assert.DoesNotContain(fixture.Logs.Entries, e => e.Level >= LogLevel.Error && e.Message.Contains("Unhandled exception", StringComparison.Ordinal));

    private static async Task<string> ErrorOf(HttpResponseMessage response, HttpStatusCode status)
    {
        var error = await Mastodon.ErrorAsync(response, status);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    public static TheoryData<string, string, bool, string> JsonEndpoints => new()
    {
        { "POST", "api/v1/statuses", true, "status" },
        { "POST", "api/v1/apps", false, "client_name" },
        { "PATCH", "api/v1/accounts/update_credentials", true, "display_name" },
        { "POST", "oauth/token", false, "grant_type" },
        { "POST", "oauth/revoke", false, "token" },
    };

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task Json_that_parses_but_cannot_be_read_is_a_400(string method, string path, bool needsUser, string key)
    {
        var token = needsUser ? (await Client.SignUpAsync()).Token : null;
        var bodies = new Dictionary<string, byte[]>
        {
            ["duplicate key"] = Encoding.UTF8.GetBytes($$"""{"{{key}}":"a","{{key}}":"b"}"""),
            ["lone surrogate"] = Encoding.UTF8.GetBytes($$"""{"{{key}}":"\ud800"}"""),
            ["lone low surrogate in a key"] = Encoding.UTF8.GetBytes($$"""{"\udc00{{key}}":"x","{{key}}":"y"}"""),
            ["invalid UTF-8"] = [.. Encoding.UTF8.GetBytes($$"""{"{{key}}":" """), 0xff, 0xfe, 0xc3, .. "\"}"u8],
            ["invalid UTF-8 in a key"] = [.. "{\""u8, 0xc0, 0x80, .. "\":\"x\"}"u8],
            ["nesting past the depth limit"] = Encoding.UTF8.GetBytes($$"""{"{{key}}":{{new string('[', 5000)}}{{new string(']', 5000)}}}"""),
            ["truncated"] = Encoding.UTF8.GetBytes($$"""{"{{key}}":"a"""),
            ["a NUL character"] = Encoding.UTF8.GetBytes($$"""{"{{key}}":"a\u0000b"}"""),
        };
        foreach (var (name, body) in bodies)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await Client.SendAsync(new HttpMethod(method), path, token, content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name} on {method} {path}: {(int)response.StatusCode} {text}");
            Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()), text);
        }
        AssertNoUnhandledException();
    }

    [Fact]
    public async Task Huge_and_negative_limits_are_clamped_on_every_paged_endpoint()
    {
        var user = await Client.SignUpAsync();
        using var posted = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "paged" }));
        var status = (await Mastodon.Ok(posted)).GetProperty("id").GetString();
        string[] paths =
        [
            "api/v1/timelines/public", "api/v1/timelines/home", $"api/v1/accounts/{user.Id}/statuses", $"api/v1/accounts/{user.Id}/followers",
            $"api/v1/accounts/{user.Id}/following", $"api/v1/statuses/{status}/favourited_by", "api/v1/favourites", "api/v1/follow_requests",
            "api/v1/accounts/search?q=u", "api/v2/search?q=u",
        ];
        foreach (var path in paths)
        {
            foreach (var limit in new[] { "-9223372036854775808", "9223372036854775807", "-99999999999999999999999", "99999999999999999999999", "-1" })
            {
                var url = $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}limit={limit}";
                using var anonymous = await Client.SendAsync(HttpMethod.Get, url);
                Assert.True((int)anonymous.StatusCode is 200 or 401, $"{url}: {(int)anonymous.StatusCode} {await anonymous.Content.ReadAsStringAsync()}");
                using var response = await Client.SendAsync(HttpMethod.Get, url, user.Token);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        AssertNoUnhandledException();
    }

    private static ByteArrayContent Multipart(string boundaryParameter, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundaryParameter}");
        return content;
    }

    [Fact]
    public async Task Malformed_multipart_uploads_are_400s()
    {
        var user = await Client.SignUpAsync();
        var jpeg = Convert.FromBase64String(TestJpeg);
        var cases = new Dictionary<string, (string Boundary, byte[] Body)>
        {
            ["a body without its boundary"] = ("XyZ", "this body never mentions its boundary"u8.ToArray()),
            ["a text part without a closing boundary"] = ("XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nhello"u8.ToArray()),
            ["a file part without a closing boundary"] = ("XyZ", [.. "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"u8, .. jpeg]),
            ["a part with 20 KB of headers"] = ("XyZ", Encoding.ASCII.GetBytes($"--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\nX-Pad: {new string('a', 20_000)}\r\n\r\nhi\r\n--XyZ--\r\n")),
            ["a part with a hundred headers"] = ("XyZ", Encoding.ASCII.GetBytes($"--XyZ\r\n{string.Concat(Enumerable.Range(0, 100).Select(i => $"X-H{i}: v\r\n"))}Content-Disposition: form-data; name=\"description\"\r\n\r\nhi\r\n--XyZ--\r\n")),
            ["a boundary past RFC 2046's 70 characters"] = (new string('b', 5000), Encoding.ASCII.GetBytes($"--{new string('b', 5000)}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nhi\r\n--{new string('b', 5000)}--\r\n")),
            ["an empty boundary"] = ("\"\"", "--\r\n\r\n"u8.ToArray()),
        };
        foreach (var (name, (boundary, body)) in cases)
        {
            using var response = await Client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, Multipart(boundary, body));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode} {text}");
            Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()), text);
        }
        // No upload was left behind by the file that never ended.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fixture.Server.DataPath, "objects", "raw"), "*", SearchOption.AllDirectories));
        AssertNoUnhandledException();
    }

    [Fact]
    public async Task A_text_part_past_its_limit_is_refused_before_the_rest_is_sent()
    {
        var user = await Client.SignUpAsync();
        // The description part claims 64 MB; only its first 256 KB are sent, then the client waits for the answer.
        var head = $"POST /api/v2/media HTTP/1.1\r\nHost: {Server.Authority}\r\nAuthorization: Bearer {user.Token}\r\n" +
                   $"Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n" +
                   "--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n";
        var request = Encoding.ASCII.GetBytes(head).Concat(Enumerable.Repeat((byte)'a', 256 * 1024)).ToArray();
        var response = await RawHttp.SendPartAsync(Server, request, request.Length, TimeSpan.FromSeconds(20));
        Assert.Equal(422, response.Status);
        Assert.Contains("Description is too long", JsonDocument.Parse(response.Body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        AssertNoUnhandledException();
    }

    [Fact]
    public async Task A_status_body_past_the_limit_is_a_413()
    {
        var user = await Client.SignUpAsync();
        // The server answers as soon as it knows and may close before the rest is sent, so the body goes over a raw socket.
        foreach (var (type, chunked) in new[] { ("application/json", false), ("application/x-www-form-urlencoded", false), ("application/json", true) })
        {
            var length = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {2 * 1024 * 1024}";
            var head = Encoding.ASCII.GetBytes($"POST /api/v1/statuses HTTP/1.1\r\nHost: {Server.Authority}\r\nAuthorization: Bearer {user.Token}\r\nContent-Type: {type}\r\n{length}\r\n\r\n");
            // With a Content-Length the refusal needs no byte of the body; a chunked body is refused once past the limit.
            var body = chunked ? Enumerable.Range(0, 24).SelectMany(_ => Encoding.ASCII.GetBytes($"10000\r\n{new string('a', 0x10000)}\r\n")).ToArray() : [];
            var response = await RawHttp.SendPartAsync(Server, [.. head, .. body], head.Length + body.Length, TimeSpan.FromSeconds(20));
            Assert.True(response.Status == 413, $"{type} {length}: {response.Status} {response.Text}");
            Assert.Contains("1048576", JsonDocument.Parse(response.Body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        AssertNoUnhandledException();
    }

    [Fact]
    public async Task A_NUL_character_in_a_query_form_or_text_part_is_a_400()
    {
        var user = await Client.SignUpAsync();
        foreach (var path in new[] { "api/v2/search?q=a%00b", "api/v1/accounts/lookup?acct=a%00", "api/v1/accounts/search?q=%00", "api/v1/timelines/public?max_id=%00" })
        {
            using var response = await Client.SendAsync(HttpMethod.Get, path, user.Token);
            Assert.Contains("U+0000", await ErrorOf(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        }
        var form = new MultipartFormDataContent { { new StringContent("a\0b"), "status" } };
        using (var multipartStatus = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, form))
            await ErrorOf(multipartStatus, HttpStatusCode.BadRequest);
        using (var encoded = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, new StringContent("status=a%00b", Encoding.ASCII, "application/x-www-form-urlencoded")))
            await ErrorOf(encoded, HttpStatusCode.BadRequest);
        var upload = new MultipartFormDataContent { { new StringContent("a\0b"), "description" }, { new ByteArrayContent(Convert.FromBase64String(TestJpeg)), "file", "a.jpg" } };
        using (var description = await Client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, upload))
            await ErrorOf(description, HttpStatusCode.BadRequest);
        AssertNoUnhandledException();
    }

    [Fact]
    public async Task A_client_that_hangs_up_mid_body_leaves_no_error_and_no_upload()
    {
        var user = await Client.SignUpAsync();
        var jpeg = Convert.FromBase64String(TestJpeg);
        var requests = new (string Path, string Type, byte[] Start)[]
        {
            ("/api/v1/statuses", "application/json", "{\"status\":\"aaaa"u8.ToArray()),
            ("/api/v1/statuses", "application/x-www-form-urlencoded", "status=aaaa"u8.ToArray()),
            ("/api/v2/media", "multipart/form-data; boundary=XyZ", [.. "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n"u8, .. jpeg]),
        };
        foreach (var (path, type, start) in requests)
        {
            foreach (var reset in new[] { false, true })
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(Server.Host, Server.Port);
                var head = Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {Server.Authority}\r\nAuthorization: Bearer {user.Token}\r\nContent-Type: {type}\r\nContent-Length: 100000\r\n\r\n");
                await client.GetStream().WriteAsync((byte[])[.. head, .. start]);
                await Task.Delay(200);
                if (reset)
                    client.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0); // close with a reset, not a goodbye
                client.Close();
            }
        }
        await Task.Delay(1000);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fixture.Server.DataPath, "objects", "raw"), "*", SearchOption.AllDirectories));
        AssertNoUnhandledException();
    }

    /// <summary>Min of a few runs: the least noisy estimate of what one request costs the server.</summary>
    private async Task<double> FastestPostMsAsync(string token, string status, HttpStatusCode expected)
    {
        var best = double.MaxValue;
        var json = JsonSerializer.Serialize(new { status });
        for (var i = 0; i < 3; i++)
        {
            // The server runs in this process: a collection of the test's own garbage must not land inside a measurement.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var watch = Stopwatch.StartNew();
            using var response = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", token, new StringContent(json, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
            Assert.True(response.StatusCode == expected, $"{status[..Math.Min(40, status.Length)]}… ({status.Length} chars): {(int)response.StatusCode} {text[..Math.Min(200, text.Length)]}");
        }
        return best;
    }

    [Fact]
    public async Task Pathological_status_text_costs_what_plain_text_of_its_size_costs()
    {
        var user = await Client.SignUpAsync();
        // The largest text the body limit lets through (JSON-escaped it stays under 1 MiB), and about the longest link.
        const int Largest = 1_000_000;
        const int LongLink = 7_900;
        // Plain text of the same size: letters, or letters after a link's start (the link pattern then reads them all).
        var plain = await FastestPostMsAsync(user.Token, new string('a', Largest), HttpStatusCode.UnprocessableEntity);
        var plainAfterLink = await FastestPostMsAsync(user.Token, "http://a.example/" + new string('a', Largest), HttpStatusCode.UnprocessableEntity);
        var plainLink = await FastestPostMsAsync(user.Token, "http://a.example/" + new string('a', LongLink), HttpStatusCode.OK);
        var cases = new (string Name, string Text, HttpStatusCode Expected, double Baseline)[]
        {
            ("a link then 40,000 ')'", "http://a.example/" + new string(')', 40_000), HttpStatusCode.UnprocessableEntity, plainAfterLink),
            ("a link then ')' up to the limit", "http://a.example/" + new string(')', Largest), HttpStatusCode.UnprocessableEntity, plainAfterLink),
            ("a link then '.' up to the limit", "http://a.example/" + new string('.', Largest), HttpStatusCode.UnprocessableEntity, plainAfterLink),
            ("'.' up to the limit", new string('.', Largest), HttpStatusCode.UnprocessableEntity, plain),
            ("'http://' up to the limit", string.Concat(Enumerable.Repeat("http://", Largest / 7)), HttpStatusCode.UnprocessableEntity, plainAfterLink),
            ("'@a' and '#1' up to the limit", string.Concat(Enumerable.Repeat(" @a@b.- #1", Largest / 10)), HttpStatusCode.UnprocessableEntity, plain),
            ("a link of balanced parentheses", "http://a.example/" + new string('(', LongLink / 2) + new string(')', LongLink / 2), HttpStatusCode.OK, plainLink),
            ("a link of trailing dots inside parentheses", "http://a.example/(" + new string('.', LongLink) + ")", HttpStatusCode.OK, plainLink),
        };
        foreach (var (name, text, expected, baseline) in cases)
        {
            var ms = await FastestPostMsAsync(user.Token, text, expected);
            TestContext.Current.TestOutputHelper?.WriteLine($"{name}: {ms:F1} ms; plain text of its size {baseline:F1} ms");
            // Before, 40,000 ')' took seconds against milliseconds (quadratic); 50 ms absorbs a shared machine's jitter.
            Assert.True(ms <= 5 * baseline + 50, $"{name}: {ms:F0} ms against {baseline:F0} ms for plain text of its size");
        }
        AssertNoUnhandledException();
    }

    [Theory]
    [InlineData("a$b")]
    [InlineData("x:99999")]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("[::1")]
    public async Task Odd_host_headers_are_400s(string host)
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync();
        var requests = new (string Method, string Target, (string, string)[] Headers, byte[]? Body)[]
        {
            ("POST", "/api/v1/statuses", [("Authorization", $"Bearer {user.Token}"), ("Content-Type", "application/x-www-form-urlencoded")], "status=hi"u8.ToArray()),
            ("POST", "/oauth/token", [("Content-Type", "application/x-www-form-urlencoded")],
                Encoding.ASCII.GetBytes($"grant_type=client_credentials&client_id={app.ClientId}&client_secret={app.ClientSecret}")),
            ("GET", "/.well-known/oauth-authorization-server", [], null),
            ("GET", "/api/v1/timelines/public", [], null),
            ("GET", "/api/v2/instance", [], null),
        };
        foreach (var (method, target, headers, body) in requests)
        {
            var response = await RawHttp.SendAsync(Server, method, target, [("Host", host), .. headers], body);
            Assert.True(response.Status == 400, $"Host '{host}' on {method} {target}: {response.Status} {response.Text}");
            Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(response.Body).RootElement.GetProperty("error").GetString()), response.Text);
        }
        // A valid Host still works, and health checks answer whatever the Host.
        var ok = await RawHttp.SendAsync(Server, "GET", "/api/v1/timelines/public", [("Host", Server.Authority)]);
        Assert.Equal(200, ok.Status);
        var health = await RawHttp.SendAsync(Server, "GET", "/health/live", [("Host", host)]);
        Assert.True(health.Status is 200 or 400, $"{health.Status} {health.Text}");
        AssertNoUnhandledException();
    }

    public static TheoryData<string, string, int> KestrelRefusals => new()
    {
        { "a NUL byte in the path", "GET /api/v1/a\0b HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "an encoded NUL in the path", "GET /api/v1/accounts/%00 HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "a 200 KB query", $"GET /api/v1/timelines/public?q={new string('a', 200_000)} HTTP/1.1\r\nHost: h\r\n\r\n", 414 },
        { "a 100 KB header", $"GET /api/v1/timelines/public HTTP/1.1\r\nHost: h\r\nX-Big: {new string('a', 100_000)}\r\n\r\n", 431 },
        { "a garbage request line", "GARBAGE\r\n\r\n", 400 },
        { "an unknown HTTP version", "GET / HTTP/7.3\r\nHost: h\r\n\r\n", 505 },
        { "two Host headers", "GET /api/v1/instance HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
        { "a bad chunk size", "POST /api/v1/apps HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n", 400 },
    };

    [Theory]
    [MemberData(nameof(KestrelRefusals))]
    public async Task Requests_the_HTTP_server_refuses_carry_a_json_error(string name, string request, int status)
    {
        var wire = await RawHttp.ExchangeAsync(Server, Encoding.Latin1.GetBytes(request));
        var response = RawHttp.Parse(wire);
        Assert.True(response.Status == status, $"{name}: {response.Status} {response.Text}");
        Assert.StartsWith("application/json", response.Headers.GetValueOrDefault("Content-Type") ?? "", StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(response.Body).RootElement.GetProperty("error").GetString()), $"{name}: {response.Text}");
        AssertNoUnhandledException();
    }

    [Fact]
    public async Task A_refused_request_after_good_ones_on_one_connection_leaves_their_answers_whole()
    {
        var good = $"GET /api/v1/instance HTTP/1.1\r\nHost: {Server.Authority}\r\n\r\n";
        var wire = await RawHttp.ExchangeAsync(Server, Encoding.Latin1.GetBytes(good + good + "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"));
        var responses = RawHttp.ParseAll(wire);
        Assert.Equal([200, 200, 400], responses.Select(r => r.Status));
        Assert.Equal(responses[0].Text, responses[1].Text);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(responses[0].Body).RootElement.GetProperty("title").ValueKind);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(responses[2].Body).RootElement.GetProperty("error").ValueKind);
    }

    /// <summary>A 1×1 JPEG, the smallest upload that is a real photo.</summary>
    private const string TestJpeg =
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/" +
        "wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==";
}

public sealed class SqliteHostileRequestTests(SqliteServerWithLogs f) : HostileRequestTests(f), IClassFixture<SqliteServerWithLogs>;

[NotThroughFront("It reads the server's log lines (PostgresServerWithLogs) and its data folder's raw objects: one process's, not a cluster's.")]
public sealed class PostgresHostileRequestTests(PostgresServerWithLogs f) : HostileRequestTests(f), IClassFixture<PostgresServerWithLogs>;
