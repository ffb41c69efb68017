using Amazon.S3;
using Amazon.S3.Model;
using Lenta.Server.Platform.Objects;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// The S3-compatible server the test command started (scripts/s3.sh): <c>LENTA_TEST_S3</c>, its URL. Callers isolate
/// themselves by bucket. Without it the S3 tests are skipped, unless <c>LENTA_TEST_REQUIRE_S3=1</c> (the test command, CI)
/// makes that a failure.
/// </summary>
public static class S3
{
    /// <summary>s3rver's fixed credentials.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    public static string ServiceUrl
    {
        get
        {
            if (Environment.GetEnvironmentVariable("LENTA_TEST_S3") is { Length: > 0 } url)
                return url;
            if (Environment.GetEnvironmentVariable("LENTA_TEST_REQUIRE_S3") == "1")
                throw new InvalidOperationException("LENTA_TEST_REQUIRE_S3=1 but LENTA_TEST_S3 is not set.");
            Assert.Skip("No S3-compatible server: run the tests through ./test.sh (sets LENTA_TEST_S3).");
            return "";
        }
    }

    /// <summary>A bucket name no other test uses (not yet created).</summary>
    public static string NewBucket(string kind) => $"t-{kind}-{Guid.NewGuid():N}";

    public static ObjectStoreOptions Options(string rawBucket, string processedBucket) => new()
    {
        Provider = "s3",
        ServiceUrl = ServiceUrl,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        RawBucket = rawBucket,
        ProcessedBucket = processedBucket,
        ForcePathStyle = true,
    };

    /// <summary>A server's settings for a fresh pair of buckets, which the server creates at start.</summary>
    public static Dictionary<string, string?> ServerSettings(string rawBucket, string processedBucket) => new()
    {
        ["Lenta:ObjectStore:Provider"] = "s3",
        ["Lenta:ObjectStore:ServiceUrl"] = ServiceUrl,
        ["Lenta:ObjectStore:AccessKey"] = AccessKey,
        ["Lenta:ObjectStore:SecretKey"] = SecretKey,
        ["Lenta:ObjectStore:RawBucket"] = rawBucket,
        ["Lenta:ObjectStore:ProcessedBucket"] = processedBucket,
    };

    public static AmazonS3Client Client() => S3ObjectStore.CreateClient(Options("unused-raw", "unused-processed"));

    /// <summary>Every key in <paramref name="bucket"/>.</summary>
    public static async Task<List<string>> KeysAsync(string bucket)
    {
        using var client = Client();
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>Empties and removes <paramref name="bucket"/>, if it exists.</summary>
    public static async Task DropBucketAsync(string bucket)
    {
        using var client = Client();
        try
        {
            await new S3ObjectStore(client, bucket, null).DeletePrefixAsync("");
            await client.DeleteBucketAsync(bucket);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }
    }
}
