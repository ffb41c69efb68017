using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Platform;

/// <summary>The host over real HTTP: health, errors, OpenAPI, roles.</summary>
public sealed class HostTests
{
    [Fact]
    public async Task Live_and_ready_answer_with_every_store_checked()
    {
        await using var server = await TestServer.StartAsync();
        using var live = await server.Http.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        using var ready = await server.Http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ok", body.GetProperty("status").GetString());
        var checks = body.GetProperty("checks");
        foreach (var name in new[] { "database", "cache", "object_store", "queue" })
            Assert.Equal("ok", checks.GetProperty(name).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_turns_unavailable_when_a_store_stops_answering()
    {
        var data = TempFolder.Create("lenta-ready");
        await using (var server = await TestServer.StartAsync(dataPath: data))
        {
            // Make the object store folder unusable: replace it with a file.
            var objects = Path.Combine(data, "objects", "processed");
            Directory.Delete(objects, recursive: true);
            await File.WriteAllTextAsync(objects, "not a folder");
            using var ready = await server.Http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("unavailable", body.GetProperty("checks").GetProperty("object_store").GetProperty("status").GetString());
            Assert.Equal("ok", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
            using var live = await server.Http.GetAsync("health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        TempFolder.Delete(data);
    }

    [Fact]
    public async Task Unknown_routes_and_wrong_methods_answer_mastodon_errors()
    {
        await using var server = await TestServer.StartAsync();
        using var missing = await server.Http.GetAsync("api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Record not found", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        using var wrongMethod = await server.Http.DeleteAsync("_diag/jobs");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("Method not allowed", (await wrongMethod.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_4xx_never_a_500()
    {
        await using var server = await TestServer.StartAsync();
        using var badNumber = await server.Http.PostAsync("_diag/jobs?count=lots", null);
        Assert.Equal(HttpStatusCode.BadRequest, badNumber.StatusCode);
        Assert.Contains("count", (await badNumber.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);

        using var outOfRange = await server.Http.PostAsync("_diag/jobs?count=0", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, outOfRange.StatusCode);
    }

    /// <summary>The benchmark waits on <c>/_diag/runtime</c> for the JIT to settle: its figures must grow as code is compiled.</summary>
    [Fact]
    public async Task The_runtime_endpoint_reports_the_jit_work_so_far()
    {
        await using var server = await TestServer.StartAsync();
        var first = await server.Http.GetFromJsonAsync<JsonElement>("_diag/runtime");
        Assert.True(first.GetProperty("jit_methods").GetInt64() > 0);
        Assert.True(first.GetProperty("jit_ms").GetDouble() > 0);
        using (await server.Http.GetAsync("health/ready"))
        using (await server.Http.GetAsync("api/v1/instance"))
        {
        }
        var later = await server.Http.GetFromJsonAsync<JsonElement>("_diag/runtime");
        Assert.True(later.GetProperty("jit_methods").GetInt64() >= first.GetProperty("jit_methods").GetInt64());
        Assert.True(later.GetProperty("jit_ms").GetDouble() >= first.GetProperty("jit_ms").GetDouble());
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_with_a_correlation_id_and_no_internals()
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.Http.PostAsync("_diag/throw", null);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var requestId = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        var text = await response.Content.ReadAsStringAsync();
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString();
        Assert.Equal($"Internal server error (request {requestId})", error);
        Assert.DoesNotContain("secret detail", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_is_served()
    {
        await using var server = await TestServer.StartAsync();
        var doc = await server.Http.GetFromJsonAsync<JsonElement>("openapi/v1.json");
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_node_runs_the_jobs_a_write_node_accepted()
    {
        // Split roles share every store (an embedded one is refused): PostgreSQL, Redis, RabbitMQ, S3.
        var settings = await Distributed.SettingsAsync();
        var data = TempFolder.Create("lenta-roles");
        await using (var writer = await TestServer.StartAsync(Distributed.With(settings, "write-api,read-api", 1), data))
        {
            using var accepted = await writer.Http.PostAsync("_diag/jobs?count=5", null);
            var ids = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ids").EnumerateArray().Select(i => i.GetString()).ToList();
            await Task.Delay(500);
            Assert.Empty(await RunsAsync(writer)); // no worker role: nothing runs

            await using var worker = await TestServer.StartAsync(Distributed.With(settings, "worker", 2), data);
            var runs = await Eventually.WaitAsync(() => RunsAsync(writer), r => r.Count == 5, TimeSpan.FromSeconds(20), "the worker node to run the jobs");
            Assert.Equal(ids.Order(), runs.Order());

            using var workerWrites = await worker.Http.PostAsync("_diag/jobs?count=1", null);
            Assert.Equal(HttpStatusCode.NotFound, workerWrites.StatusCode); // a worker serves no API
        }
        TempFolder.Delete(data);
    }

    private static async Task<List<string>> RunsAsync(TestServer server) =>
        (await server.Http.GetFromJsonAsync<JsonElement>("_diag/jobs/runs")).EnumerateArray().Select(r => r.GetProperty("job_id").GetString()!).ToList();
}
