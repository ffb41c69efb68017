using System.Buffers;
using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Lenta.Server.Platform.Objects;

/// <summary>
/// An object store in one bucket of an S3-compatible service. A put of up to <see cref="PartSize"/> bytes is one PutObject;
/// a larger one a multipart upload of parts read one at a time into a single buffer, so a 99 MiB video never sits in
/// memory whole. Either way the object appears only when the last request succeeds (S3 writes are atomic per key), and a
/// failed multipart upload is aborted. Every object carries the Content-Type of its key's extension and, in the processed
/// bucket, a year's immutable Cache-Control, so a CDN or nginx in front of the bucket serves it as <c>/system</c> would.
/// Reads are ranged GetObjects (<see cref="S3ReadStream"/>), so a Range request never downloads the whole object.
/// </summary>
public sealed class S3ObjectStore(IAmazonS3 client, string bucket, string? cacheControl) : IObjectStore
{
    /// <summary>The buffer of a put, and the size of every multipart part but the last (S3's smallest is 5 MiB).</summary>
    public const int PartSize = 8 * 1024 * 1024;

    public string Bucket => bucket;

    /// <summary>A client for <paramref name="o"/>'s endpoint and credentials.</summary>
    public static AmazonS3Client CreateClient(ObjectStoreOptions o)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = o.ForcePathStyle,
            // SDK 4 computes a CRC32 of every body it sends and checks every body it reads by default. Only where S3
            // requires one (DeleteObjects): the bodies are sent with their length (below) and checked by the ETag match
            // of every ranged read, and checksums some S3-compatible services do not know stay out of the requests.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromMinutes(2),
        };
        if (o.ServiceUrl.Length > 0)
        {
            config.ServiceURL = o.ServiceUrl;
            config.AuthenticationRegion = o.Region;
        }
        else
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(o.Region);
        return o.AccessKey.Length > 0
            ? new AmazonS3Client(new BasicAWSCredentials(o.AccessKey, o.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public async Task<long> PutAsync(string key, Stream content, CancellationToken ct = default)
    {
        ObjectKeys.Validate(key);
        var buffer = ArrayPool<byte>.Shared.Rent(PartSize);
        try
        {
            var filled = await FillAsync(content, buffer, ct);
            if (filled < PartSize)
            {
                var put = new PutObjectRequest
                {
                    BucketName = bucket,
                    Key = key,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                    ContentType = ContentTypeOf(key),
                    // aws-chunked bodies come back with their chunk framing from services that do not speak it (s3rver:
                    // ObjectStoreContractTests fail with it on).
                    UseChunkEncoding = false,
                };
                if (cacheControl is not null)
                    put.Headers.CacheControl = cacheControl;
                await client.PutObjectAsync(put, ct);
                return filled;
            }
            return await PutInPartsAsync(key, content, buffer, filled, ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<long> PutInPartsAsync(string key, Stream content, byte[] buffer, int filled, CancellationToken ct)
    {
        var start = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key, ContentType = ContentTypeOf(key) };
        if (cacheControl is not null)
            start.Headers.CacheControl = cacheControl;
        var uploadId = (await client.InitiateMultipartUploadAsync(start, ct)).UploadId;
        try
        {
            var parts = new List<PartETag>();
            long total = 0;
            while (filled > 0)
            {
                var part = await client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumber = parts.Count + 1,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                    PartSize = filled,
                    UseChunkEncoding = false,
                }, ct);
                parts.Add(new PartETag(parts.Count + 1, part.ETag));
                total += filled;
                filled = filled < PartSize ? 0 : await FillAsync(content, buffer, ct);
            }
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId, PartETags = parts }, ct);
            return total;
        }
        catch
        {
            // Best effort: parts of an upload that is neither completed nor aborted stay invisible until the bucket's
            // lifecycle rule (set when Lenta creates the bucket) removes them.
            try
            {
                await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId }, CancellationToken.None);
            }
            catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
            {
            }
            throw;
        }
    }

    private static async Task<int> FillAsync(Stream content, byte[] buffer, CancellationToken ct) =>
        await content.ReadAtLeastAsync(buffer.AsMemory(0, PartSize), PartSize, throwOnEndOfStream: false, ct);

    private static string ContentTypeOf(string key) => ObjectContentTypes.Of(key) ?? "application/octet-stream";

    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken ct = default)
    {
        ObjectKeys.Validate(key);
        try
        {
            var m = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, ct);
            var modified = m.LastModified is { } t ? new DateTimeOffset(t.ToUniversalTime()) : DateTimeOffset.UnixEpoch;
            return new ObjectInfo(key, m.ContentLength, modified, m.ETag);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        var info = await StatAsync(key, ct);
        return info is null ? null : new S3ReadStream(client, bucket, key, info.Length, info.ETag);
    }

    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken ct = default)
    {
        var slash = prefix.LastIndexOf('/');
        if (slash >= 0)
            ObjectKeys.Validate(prefix[..slash]);
        var deleted = 0;
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token }, ct);
            var keys = page.S3Objects ?? [];
            if (keys.Count > 0)
            {
                var result = await client.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = bucket,
                    Objects = keys.Select(o => new KeyVersion { Key = o.Key }).ToList(),
                    Quiet = true,
                }, ct);
                if (result.DeleteErrors is { Count: > 0 } errors)
                    throw new IOException($"Bucket '{bucket}': could not delete '{errors[0].Key}' ({errors[0].Code}: {errors[0].Message}).");
                deleted += keys.Count;
            }
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return deleted;
    }

    public async Task PingAsync(CancellationToken ct)
    {
        try
        {
            await client.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }, ct);
        }
        catch (AmazonServiceException e)
        {
            // A HEAD's error has no body, so the SDK's own message names neither the bucket nor the cause.
            throw new IOException($"bucket '{bucket}' answers {(int)e.StatusCode} {e.ErrorCode}", e);
        }
    }

    /// <summary>
    /// Creates the bucket when it is missing, with a rule that removes the parts of multipart uploads left unfinished for a
    /// day (a process killed mid-upload). Throws <see cref="ObjectStoreUnavailableException"/> naming the bucket when it is
    /// missing and these credentials may not create it, or the service cannot be reached.
    /// </summary>
    public async Task CreateIfMissingAsync(CancellationToken ct)
    {
        try
        {
            await PingAsync(ct);
            return;
        }
        catch (IOException e) when (e.InnerException is AmazonServiceException { StatusCode: HttpStatusCode.NotFound })
        {
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            throw new ObjectStoreUnavailableException($"bucket '{bucket}' cannot be reached ({Describe(e.InnerException as AmazonServiceException ?? e)})", e);
        }

        try
        {
            await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, ct);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou")
        {
            return; // another process made it meanwhile
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            throw new ObjectStoreUnavailableException($"bucket '{bucket}' does not exist and could not be created; create it, or give these credentials s3:CreateBucket ({Describe(e)})", e);
        }

        try
        {
            await client.PutLifecycleConfigurationAsync(new PutLifecycleConfigurationRequest
            {
                BucketName = bucket,
                Configuration = new LifecycleConfiguration
                {
                    Rules =
                    [
                        new LifecycleRule
                        {
                            Id = "lenta-abort-unfinished-uploads",
                            Status = LifecycleRuleStatus.Enabled,
                            Filter = new LifecycleFilter { LifecycleFilterPredicate = new LifecyclePrefixPredicate { Prefix = "" } },
                            AbortIncompleteMultipartUpload = new LifecycleRuleAbortIncompleteMultipartUpload { DaysAfterInitiation = 1 },
                        },
                    ],
                },
            }, ct);
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            // Not every S3-compatible service has lifecycle rules (s3rver has not); the bucket works without one.
        }
    }

    private static string Describe(Exception e) => e is AmazonServiceException s && s.ErrorCode is { Length: > 0 } code
        ? $"{(int)s.StatusCode} {code}: {s.Message}"
        : e.Message;
}

/// <summary>The object store cannot be used as configured; the message names the bucket and the service's answer.</summary>
public sealed class ObjectStoreUnavailableException(string message, Exception inner) : IOException(message, inner);
