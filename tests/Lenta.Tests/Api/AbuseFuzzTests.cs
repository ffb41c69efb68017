using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Api;

/// <summary>
/// Generated hostile requests against a real server, endpoint by endpoint: broken and odd JSON, forms and multipart
/// (duplicate keys, invalid UTF-8 and UTF-16, huge and negative numbers, deep nesting, truncation), odd query values and
/// long or odd headers. Each answer is a success or a 4xx carrying <c>{"error": …}</c>, within a bounded time; the server
/// is healthy after and logged no unhandled exception. CsCheck generates the inputs (async properties, a seed printed on
/// failure to replay it).
/// </summary>
public abstract class AbuseFuzzTests(ServerWithLogs fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private Mastodon Client => fixture.Client;

    /// <summary>An endpoint: method, path (with ids filled in), the token it needs, and a valid body to start mutating from.</summary>
    private sealed record Endpoint(string Method, string Path, string? Token, string ValidJson);

    private sealed record Attack(Endpoint Endpoint, string ContentType, byte[] Body, string Query, (string Name, string Value)? Header)
    {
        public override string ToString() =>
            $"{Endpoint.Method} {Endpoint.Path}?{Query} [{ContentType}] {Header?.Name}:{Header?.Value.Length} body({Body.Length}) {Encoding.Latin1.GetString(Body.AsSpan(0, Math.Min(300, Body.Length)))}";
    }

    private async Task<List<Endpoint>> EndpointsAsync()
    {
        var user = await Client.SignUpAsync();
        var app = await Client.RegisterAppAsync();
        var appToken = await Client.AppTokenAsync(app, "write");
        using var posted = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "fuzz target" }));
        var status = (await Mastodon.Ok(posted)).GetProperty("id").GetString();
        return
        [
            new("POST", "api/v1/statuses", user.Token, """{"status":"hi","visibility":"public","media_ids":[],"sensitive":false,"spoiler_text":"","language":"en"}"""),
            new("PATCH", "api/v1/accounts/update_credentials", user.Token, """{"display_name":"x","note":"y","locked":false,"source":{"privacy":"public"},"fields_attributes":[{"name":"a","value":"b"}]}"""),
            new("POST", "api/v1/apps", null, """{"client_name":"fuzz","redirect_uris":"urn:ietf:wg:oauth:2.0:oob","scopes":"read write"}"""),
            new("POST", "api/v1/accounts", appToken, """{"username":"fuzzer","email":"f@example.com","password":"correct horse battery","agreement":true,"locale":"en"}"""),
            new("POST", "oauth/token", null, $$"""{"grant_type":"client_credentials","client_id":"{{app.ClientId}}","client_secret":"{{app.ClientSecret}}","scope":"read"}"""),
            new("POST", "oauth/revoke", null, $$"""{"client_id":"{{app.ClientId}}","client_secret":"{{app.ClientSecret}}","token":"nope"}"""),
            new("POST", $"api/v1/accounts/{user.Id}/follow", user.Token, """{"reblogs":true,"notify":false,"languages":["en"]}"""),
            new("POST", $"api/v1/statuses/{status}/favourite", user.Token, "{}"),
            new("PUT", "api/v1/media/1", user.Token, """{"description":"d","focus":"0.1,0.2"}"""),
            new("POST", "api/v2/media", user.Token, """{"description":"d"}"""),
            new("GET", "api/v1/timelines/public", null, "{}"),
            new("GET", "api/v1/timelines/home", user.Token, "{}"),
            new("GET", $"api/v1/accounts/{user.Id}/statuses", null, "{}"),
            new("GET", $"api/v1/accounts/{user.Id}/followers", null, "{}"),
            new("GET", "api/v1/accounts/relationships", user.Token, "{}"),
            new("GET", "api/v2/search", user.Token, "{}"),
            new("GET", "api/v1/accounts/lookup", null, "{}"),
            new("GET", $"api/v1/statuses/{status}/context", null, "{}"),
        ];
    }

    private static readonly string[] OddValues =
    [
        "-9223372036854775808", "9223372036854775807", "99999999999999999999999999", "-1", "0", "1e999999", "-0", "0x10", "NaN",
        "", " ", "%00", "\u0000", "☃", "\ud83d\ude00", "[]", "{}", "null", "true", new string('9', 400), new string('a', 4000),
    ];

    private static readonly string[] QueryKeys = ["limit", "max_id", "min_id", "since_id", "offset", "q", "acct", "id[]", "id", "type", "only_media", "a[b][c][d]"];

    /// <summary>Bytes that are not UTF-8 (a lone continuation byte, an overlong NUL, a surrogate encoded, a cut sequence).</summary>
    private static readonly byte[][] BadUtf8 = [[0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]];

    private static Gen<string> Value => Gen.OneOf(Gen.OneOf(OddValues), Gen.String[0, 40]);

    private static Gen<byte[]> Json(Endpoint e)
    {
        var valid = Encoding.UTF8.GetBytes(e.ValidJson);
        var flipped = Gen.Select(Gen.Int[0, Math.Max(0, valid.Length - 1)], Gen.Byte, Gen.Int[1, 8], (at, b, n) =>
        {
            var copy = (byte[])valid.Clone();
            for (var i = 0; i < n; i++)
                copy[(at + (i * 7)) % copy.Length] = (byte)(b + i);
            return copy;
        });
        var truncated = Gen.Int[0, valid.Length].Select(n => valid[..n]);
        var duplicated = Gen.OneOf(QueryKeys).Select(Value, (k, v) => Encoding.UTF8.GetBytes($"{{{JsonSerializer.Serialize(k)}:1,{JsonSerializer.Serialize(k)}:{JsonSerializer.Serialize(v)}}}"));
        var badText = Gen.Select(Gen.OneOf(BadUtf8), Gen.Bool, (bad, inKey) => inKey
            ? "{\"a"u8.ToArray().Concat(bad).Concat("\":1}"u8.ToArray()).ToArray()
            : "{\"status\":\"x"u8.ToArray().Concat(bad).Concat("\",\"display_name\":\"y\"}"u8.ToArray()).ToArray());
        var surrogates = Gen.OneOf("\\ud800", "\\udfff", "\\ud800\\ud800", "\\udc00\\ud800", "\\u0000").Select(s => Encoding.UTF8.GetBytes($"{{\"status\":\"{s}\",\"client_name\":\"{s}\",\"{s}\":1}}"));
        var deep = Gen.Int[1, 6000].Select(Gen.OneOf("[", "{\"a\":"), (n, open) => Encoding.UTF8.GetBytes($"{{\"status\":{string.Concat(Enumerable.Repeat(open, n))}1{string.Concat(Enumerable.Repeat(open == "[" ? "]" : "}", n))}}}"));
        var numbers = Gen.OneOf("1e999999", "-1e999999", "123456789012345678901234567890", "-9223372036854775809", "0.0000000000000000000000001", "1E400")
            .Select(Gen.OneOf(QueryKeys), (n, k) => Encoding.UTF8.GetBytes($"{{\"{k}\":{n},\"media_ids\":[{n}],\"sensitive\":{n}}}"));
        var wide = Gen.Int[1, 3000].Select(n => Encoding.UTF8.GetBytes("{\"media_ids\":[" + string.Join(',', Enumerable.Repeat("\"1\"", n)) + "]}"));
        var wrongShape = Gen.OneOf("[]", "1", "\"s\"", "null", "true", "{\"status\":{\"a\":[]}}", "{\"media_ids\":{\"0\":{\"1\":[]}}}", "").Select(s => Encoding.UTF8.GetBytes(s));
        return Gen.OneOf(flipped, truncated, duplicated, badText, surrogates, deep, numbers, wide, wrongShape);
    }

    private static Gen<(string ContentType, byte[] Body)> Form =>
        Gen.OneOf(
            Gen.Int[1, 100].Select(n => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("[a]", n)).Insert(0, "status") + "=x")),
            Gen.OneOf("status=%ED%A0%80", "status=%FF%FE", "status=%", "status=%zz", "a[]=1&a[x]=2&a[0]=3", "=&&==&", "media_ids[99999999999]=1", "status=x&status=y").Select(s => Encoding.ASCII.GetBytes(s)),
            Gen.Byte.Array[0, 300])
        .Select(body => ("application/x-www-form-urlencoded", body));

    private static Gen<(string ContentType, byte[] Body)> Multipart =>
        Gen.OneOf(
            Gen.Const(("multipart/form-data", "--X\r\n\r\n"u8.ToArray())),
            Gen.Int[0, 70].Select(n => ("multipart/form-data; boundary=X", Encoding.ASCII.GetBytes("--X\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n" + new string('d', n * 100)))),
            Gen.Int[1, 40].Select(n => ("multipart/form-data; boundary=X", Encoding.ASCII.GetBytes($"--X\r\nContent-Disposition: form-data; name=\"status\"\r\nX-Pad: {new string('p', n * 1000)}\r\n\r\nhi\r\n--X--\r\n"))),
            Gen.Int[71, 3000].Select(n => ($"multipart/form-data; boundary={new string('b', n)}", Encoding.ASCII.GetBytes($"--{new string('b', n)}--\r\n"))),
            Gen.Byte.Array[0, 300].Select(b => ("multipart/form-data; boundary=X", "--X\r\n"u8.ToArray().Concat(b).ToArray())),
            Gen.Const(("multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nnot a photo--X"u8.ToArray())));

    private static Gen<string> OtherContentType => Gen.OneOf("text/plain", "application/json; charset=utf-16", "application/xml", "application/x-www-form-urlencoded; charset=latin1", "", "*/*", "application/vnd.api+json");

    private static Gen<Attack> Attacks(List<Endpoint> endpoints) =>
        from e in Gen.OneOf(endpoints.ToArray())
        from body in Gen.Frequency((5, Json(e).Select(b => ("application/json", b))), (2, Form), (2, Multipart), (1, OtherContentType.Select(Gen.Byte.Array[0, 64], (t, b) => (t, b))))
        from query in Gen.Frequency((3, Gen.Const("")), (2, Gen.OneOf(QueryKeys).Select(Value, (k, v) => $"{Uri.EscapeDataString(k)}={Uri.EscapeDataString(v)}")))
        from header in Gen.Frequency((4, Gen.Const(((string, string)?)null)),
            (1, Gen.Int[1, 30].Select(Gen.OneOf("X-Pad", "Idempotency-Key", "Accept-Language", "Authorization"), (n, name) => ((string, string)?)(name, new string('z', n * 1000)))),
            (1, Gen.OneOf("Bearer ", "Bearer \t", "Basic ", "bearer x y", "Bearer %E2%98%83").Select(v => ((string, string)?)("Authorization", v))))
        select new Attack(e, body.Item1, body.Item2, query, header);

    private async Task SendAsync(Attack attack)
    {
        var e = attack.Endpoint;
        using var request = new HttpRequestMessage(new HttpMethod(e.Method), e.Path + (attack.Query.Length > 0 ? "?" + attack.Query : ""));
        if (e.Method != "GET")
        {
            request.Content = new ByteArrayContent(attack.Body);
            if (attack.ContentType.Length > 0)
                request.Content.Headers.TryAddWithoutValidation("Content-Type", attack.ContentType);
        }
        if (e.Token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", e.Token);
        if (attack.Header is var (name, value))
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var watch = Stopwatch.StartNew();
        using var response = await Client.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(watch.Elapsed < Bound, $"{watch.Elapsed.TotalMilliseconds:F0} ms");
        var status = (int)response.StatusCode;
        Assert.True(status < 500, $"{status} {text}");
        if (status >= 400)
        {
            using var json = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("error").ValueKind);
        }
    }

    [Fact]
    public async Task Generated_hostile_requests_get_a_json_4xx_in_bounded_time_and_leave_the_server_healthy()
    {
        var endpoints = await EndpointsAsync();
        await Attacks(endpoints).SampleAsync(SendAsync, iter: 600, threads: 1, print: a => a.ToString());
        using var ready = await Client.Http.GetAsync("health/ready");
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        Assert.DoesNotContain(fixture.Logs.Entries, e => e.Level >= LogLevel.Error && e.Message.Contains("Unhandled exception", StringComparison.Ordinal));
    }
}

public sealed class SqliteAbuseFuzzTests(SqliteServerWithLogs f) : AbuseFuzzTests(f), IClassFixture<SqliteServerWithLogs>;

[NotThroughFront("It reads the server's log lines (PostgresServerWithLogs): one process's, not a cluster's.")]
public sealed class PostgresAbuseFuzzTests(PostgresServerWithLogs f) : AbuseFuzzTests(f), IClassFixture<PostgresServerWithLogs>;
