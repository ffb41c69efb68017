using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Media;

/// <summary>
/// The API and the workers as separate processes, on separate data folders, sharing only PostgreSQL, Redis, RabbitMQ and
/// the S3 buckets: an upload accepted by the API process is processed by the worker process and served by the API process.
/// </summary>
public sealed class S3WorkerProcessTests
{
    [Fact]
    public async Task A_worker_process_processes_a_photo_uploaded_through_an_api_process()
    {
        var raw = S3.NewBucket("raw");
        var processed = S3.NewBucket("processed");
        var shared = Distributed.Env(await Distributed.SettingsAsync(rawBucket: raw, processedBucket: processed));
        var apiData = TempFolder.Create("lenta-api");
        var workerData = TempFolder.Create("lenta-worker");
        try
        {
            await using var api = await ServerProcess.StartAsync(new Dictionary<string, string>(shared)
            {
                ["Lenta__DataPath"] = apiData, ["Lenta__Roles"] = "write-api,read-api", ["Lenta__NodeId"] = "1",
            });
            // Generous: on a loaded machine the API process's first requests (its JIT) outlast the default 30 s.
            using var http = new HttpClient { BaseAddress = api.Address, Timeout = TimeSpan.FromMinutes(2) };
            var client = new Mastodon(http);
            var user = await client.SignUpAsync();
            using var image = TestImages.Noise(800, 600);
            var file = new ByteArrayContent(image.JpegsaveBuffer());
            file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            using var upload = await client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, new MultipartFormDataContent { { file, "file", "p.jpg" } });
            Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
            var id = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

            await Task.Delay(1000);
            using (var waiting = await client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token))
                Assert.Equal(HttpStatusCode.PartialContent, waiting.StatusCode); // no worker role in the API process: still pending

            await using var worker = await ServerProcess.StartAsync(new Dictionary<string, string>(shared)
            {
                ["Lenta__DataPath"] = workerData, ["Lenta__Roles"] = "worker", ["Lenta__NodeId"] = "2",
            });
            var (status, body) = await Eventually.WaitAsync(async () =>
            {
                using var r = await client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
                return (r.StatusCode, await r.Content.ReadAsStringAsync());
            }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(60), "the worker process to process the upload");
            Assert.True(status == HttpStatusCode.OK, body);
            var url = new Uri(JsonDocument.Parse(body).RootElement.GetProperty("url").GetString()!);
            using var served = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("image/jpeg", served.Content.Headers.ContentType?.MediaType);
            Assert.Contains((await S3.KeysAsync(processed)), k => url.AbsolutePath.EndsWith(k, StringComparison.Ordinal));
            // Nothing went through either process's data folder: the stores are the buckets.
            Assert.False(Directory.Exists(Path.Combine(apiData, "objects")));
            Assert.False(Directory.Exists(Path.Combine(workerData, "objects")));
        }
        finally
        {
            TempFolder.Delete(apiData);
            TempFolder.Delete(workerData);
        }
    }
}
