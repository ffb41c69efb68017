namespace Lenta.Server.Platform.Objects;

/// <summary>
/// The object store port (the raw store of uploads as received and the processed store of what is served). Keys are immutable names
/// (<c>[A-Za-z0-9._-]</c> segments joined by <c>/</c>). A put is atomic: readers see the whole object or none.
/// </summary>
public interface IObjectStore
{
    /// <summary>Streams <paramref name="content"/> to the store (never whole in memory) and returns its length in bytes.</summary>
    Task<long> PutAsync(string key, Stream content, CancellationToken ct = default);

    Task<ObjectInfo?> StatAsync(string key, CancellationToken ct = default);

    /// <summary>A readable (for disk: seekable) stream, or null when the key does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default);

    /// <summary>Deletes every key that starts with <paramref name="prefix"/> (all variants of one upload).</summary>
    Task<int> DeletePrefixAsync(string prefix, CancellationToken ct = default);

    /// <summary>Answers when the store can be used; what <c>/health/ready</c> asks.</summary>
    Task PingAsync(CancellationToken ct);

    /// <summary>Makes the store's folder or bucket when it is missing; run once at start.</summary>
    Task CreateIfMissingAsync(CancellationToken ct);
}

public sealed record ObjectInfo(string Key, long Length, DateTimeOffset LastModified, string ETag);

/// <summary>The two stores of the seed: originals as uploaded, and what processing made of them (the only one served).</summary>
public sealed record ObjectStores(IObjectStore Raw, IObjectStore Processed);

/// <summary><c>Lenta__ObjectStore__*</c>.</summary>
public sealed class ObjectStoreOptions
{
    public const string Section = "Lenta:ObjectStore";

    /// <summary>
    /// <c>disk</c>: folders <c>objects/raw</c> and <c>objects/processed</c> under the data folder. <c>s3</c>: two buckets of an
    /// S3-compatible service (<see cref="S3ObjectStore"/>).
    /// </summary>
    public string Provider { get; set; } = "disk";

    /// <summary>The S3 endpoint (MinIO, Garage, R2, s3rver…); empty for AWS itself, which is then found from <see cref="Region"/>.</summary>
    public string ServiceUrl { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    /// <summary>Empty with <see cref="SecretKey"/> empty: the SDK's default credentials (environment, instance role).</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Uploads as received; never served.</summary>
    public string RawBucket { get; set; } = "lenta-raw";

    /// <summary>What processing made of them; the origin of <c>Lenta__Media__BaseUrl</c> or of <c>/system</c>.</summary>
    public string ProcessedBucket { get; set; } = "lenta-processed";

    /// <summary><c>endpoint/bucket/key</c> instead of <c>bucket.endpoint/key</c>: what most self-hosted services need.</summary>
    public bool ForcePathStyle { get; set; } = true;
}

public static class ObjectKeys
{
    /// <summary>Throws unless <paramref name="key"/> is a safe relative name: no empty, dot or dot-dot segment, no backslash, at most 512 characters.</summary>
    public static void Validate(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 512)
            throw new ArgumentException("An object key must have 1 to 512 characters.", nameof(key));
        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == ".." || segment[0] == '.')
                throw new ArgumentException($"Object key '{key}' has an empty or dot segment.", nameof(key));
            foreach (var c in segment)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                    throw new ArgumentException($"Object key '{key}' has a character outside [A-Za-z0-9._-/].", nameof(key));
            }
        }
    }
}
