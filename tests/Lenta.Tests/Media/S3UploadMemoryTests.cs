using System.Net;
using System.Net.Http.Headers;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Media;

/// <summary>
/// Large uploads on the S3 stores, against a real server process: each streams into the raw bucket as a multipart upload
/// through one part buffer, so two 96 MiB videos at once leave resident memory well under their size.
/// </summary>
public sealed class S3UploadMemoryTests(ITestOutputHelper output)
{
    private const int VideoBytes = 96 * 1024 * 1024;

    /// <summary>Part buffers, Kestrel's and the HTTP client's buffers, the collector's slack; holding the bodies would take 192 MiB.</summary>
    private const long AllowedGrowth = 100L * 1024 * 1024;

    [Fact]
    public async Task Two_96_MiB_videos_stream_into_the_raw_bucket_with_resident_memory_bounded()
    {
        var raw = S3.NewBucket("raw");
        var processed = S3.NewBucket("processed");
        // No worker role (nothing processes the fake videos), so the stores a split process needs.
        var env = Distributed.Env(Distributed.With(await Distributed.SettingsAsync(rawBucket: raw, processedBucket: processed), "write-api,read-api", 0));
        var data = TempFolder.Create("lenta-s3-memory");
        env["Lenta__DataPath"] = data;
        try
        {
            await using var server = await ServerProcess.StartAsync(env);
            using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
            var client = new Mastodon(http);
            var user = await client.SignUpAsync();
            var before = server.ResidentBytes;
            var peak = before;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, server.ResidentBytes);
                    await Task.Delay(20);
                }
            });
            var statuses = await Task.WhenAll(Enumerable.Range(0, 2).Select(async seed =>
            {
                var file = new StreamContent(new FakeVideo(VideoBytes, seed));
                file.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
                using var upload = await client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, new MultipartFormDataContent { { file, "file", "big.mp4" } });
                return upload.StatusCode;
            }));
            await sampling.CancelAsync();
            await sampler;
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Accepted, s));
            output.WriteLine($"resident memory {before >> 20} MiB before, peak {peak >> 20} MiB during two uploads of {VideoBytes >> 20} MiB");
            Assert.True(peak - before < AllowedGrowth, $"resident memory grew from {before >> 20} MiB to a peak of {peak >> 20} MiB");

            using var s3 = S3.Client();
            var keys = await S3.KeysAsync(raw);
            Assert.Equal(2, keys.Count);
            foreach (var key in keys)
                Assert.Equal(VideoBytes, (await s3.GetObjectMetadataAsync(raw, key)).ContentLength);
        }
        finally
        {
            TempFolder.Delete(data);
            await S3.DropBucketAsync(raw);
            await S3.DropBucketAsync(processed);
        }
    }

    /// <summary>An MP4 by its first box (what the upload sniffs), then noise; made as it is read, never held.</summary>
    private sealed class FakeVideo(int length, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private int _at;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, length - _at);
            _random.NextBytes(buffer.AsSpan(offset, n));
            for (var i = 0; i < n && _at + i < 12; i++)
                buffer[offset + i] = "\0\0\0\u0018ftypisom"u8[_at + i];
            _at += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
