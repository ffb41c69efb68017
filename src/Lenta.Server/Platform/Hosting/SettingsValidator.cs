using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lenta.Server.Platform.Hosting;

/// <summary>Checks every setting at start; each message names the environment variable to fix.</summary>
public sealed class SettingsValidator :
    IValidateOptions<LentaOptions>, IValidateOptions<DatabaseOptions>, IValidateOptions<CacheOptions>,
    IValidateOptions<ObjectStoreOptions>, IValidateOptions<JobQueueOptions>
{
    public ValidateOptionsResult Validate(string? name, LentaOptions o)
    {
        var errors = new List<string>();
        if (!RoleParser.TryParse(o.Roles, out _, out var bad))
            errors.Add($"Lenta__Roles: unknown role '{bad}'; use all, or a comma-separated list of read-api, write-api, worker.");
        if (o.NodeId is < 0 or > IdGenerator.MaxNode)
            errors.Add($"Lenta__NodeId: {o.NodeId} is outside 0..{IdGenerator.MaxNode}.");
        if (string.IsNullOrWhiteSpace(o.DataPath))
            errors.Add("Lenta__DataPath: must name a folder.");
        if (o.LogFormat is not ("json" or "text"))
            errors.Add($"Lenta__LogFormat: unknown format '{o.LogFormat}'; use json or text.");
        if (o.PublicUrl.Length > 0 && !(Uri.TryCreate(o.PublicUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
            errors.Add($"Lenta__PublicUrl: '{o.PublicUrl}' is not an absolute http(s) URL.");
        if (!TrustedProxies.TryParse(o.TrustedProxies, out _, out var notAnAddress))
            errors.Add($"Lenta__TrustedProxies: '{notAnAddress}' is neither an IP address nor a network such as 10.0.0.0/8.");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, DatabaseOptions o)
    {
        var errors = new List<string>();
        switch (o.Provider)
        {
            case "sqlite":
                break;
            case "postgres":
                if (string.IsNullOrWhiteSpace(o.ConnectionString))
                    errors.Add("Lenta__Database__ConnectionString: required when Lenta__Database__Provider is postgres.");
                else
                {
                    try
                    {
                        _ = new NpgsqlConnectionStringBuilder(o.ConnectionString);
                    }
                    catch (Exception e) when (e is ArgumentException or FormatException)
                    {
                        errors.Add($"Lenta__Database__ConnectionString: not a valid PostgreSQL connection string ({e.Message}).");
                    }
                }
                break;
            default:
                errors.Add($"Lenta__Database__Provider: unknown provider '{o.Provider}'; use sqlite or postgres.");
                break;
        }
        if (o.MaxWriteBatch < 1)
            errors.Add("Lenta__Database__MaxWriteBatch: must be at least 1.");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, CacheOptions o)
    {
        var errors = new List<string>();
        switch (o.Provider)
        {
            case "memory":
                if (o.MaxBytes < 1024 * 1024)
                    errors.Add("Lenta__Cache__MaxBytes: must be at least 1048576 (1 MiB).");
                break;
            case "redis":
                if (string.IsNullOrWhiteSpace(o.ConnectionString))
                    errors.Add("Lenta__Cache__ConnectionString: required for the redis provider (e.g. 127.0.0.1:6379).");
                else if (!TryParseRedis(o.ConnectionString, out var why))
                    errors.Add($"Lenta__Cache__ConnectionString: {why}");
                if (!o.KeyPrefix.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '-' or '.'))
                    errors.Add($"Lenta__Cache__KeyPrefix: '{o.KeyPrefix}' may hold only letters, digits and : _ - .");
                if (o.TimeoutMs is < 10 or > 60_000)
                    errors.Add("Lenta__Cache__TimeoutMs: must be between 10 and 60000.");
                break;
            default:
                errors.Add($"Lenta__Cache__Provider: unknown provider '{o.Provider}'; use memory or redis.");
                break;
        }
        return Result(errors);
    }

    private static bool TryParseRedis(string configuration, out string why)
    {
        try
        {
            _ = StackExchange.Redis.ConfigurationOptions.Parse(configuration);
            why = "";
            return true;
        }
        catch (ArgumentException e)
        {
            why = e.Message;
            return false;
        }
    }

    public ValidateOptionsResult Validate(string? name, ObjectStoreOptions o)
    {
        var errors = new List<string>();
        switch (o.Provider)
        {
            case "disk":
                break;
            case "s3":
                if (o.ServiceUrl.Length > 0 && !(Uri.TryCreate(o.ServiceUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
                    errors.Add($"Lenta__ObjectStore__ServiceUrl: '{o.ServiceUrl}' is not an absolute http(s) URL (leave it empty for AWS).");
                if (o.ServiceUrl.Length == 0 && Amazon.RegionEndpoint.EnumerableAllRegions.All(r => r.SystemName != o.Region))
                    errors.Add($"Lenta__ObjectStore__Region: '{o.Region}' is not an AWS region (set Lenta__ObjectStore__ServiceUrl for another S3 service).");
                if (string.IsNullOrWhiteSpace(o.Region))
                    errors.Add("Lenta__ObjectStore__Region: must not be empty (us-east-1 suits most S3-compatible services).");
                if ((o.AccessKey.Length == 0) != (o.SecretKey.Length == 0))
                    errors.Add("Lenta__ObjectStore__AccessKey / __SecretKey: set both, or neither to use the SDK's default credentials.");
                if (!IsBucketName(o.RawBucket))
                    errors.Add($"Lenta__ObjectStore__RawBucket: '{o.RawBucket}' is not a bucket name (3-63 lowercase letters, digits, dots and hyphens).");
                if (!IsBucketName(o.ProcessedBucket))
                    errors.Add($"Lenta__ObjectStore__ProcessedBucket: '{o.ProcessedBucket}' is not a bucket name (3-63 lowercase letters, digits, dots and hyphens).");
                if (o.RawBucket == o.ProcessedBucket)
                    errors.Add("Lenta__ObjectStore__RawBucket / __ProcessedBucket: must differ (the processed bucket may be public, the raw one never).");
                break;
            default:
                errors.Add($"Lenta__ObjectStore__Provider: unknown provider '{o.Provider}'; use disk or s3.");
                break;
        }
        return Result(errors);
    }

    /// <summary>docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html, the rules that every S3-compatible service accepts.</summary>
    private static bool IsBucketName(string name) =>
        name.Length is >= 3 and <= 63 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1]) && !name.Contains("..", StringComparison.Ordinal);

    public ValidateOptionsResult Validate(string? name, JobQueueOptions o)
    {
        var errors = new List<string>();
        if (o.Provider is not ("local" or "rabbitmq"))
            errors.Add($"Lenta__Queue__Provider: unknown provider '{o.Provider}'; use local or rabbitmq.");
        if (o.Provider == "rabbitmq" && !(Uri.TryCreate(o.ConnectionString, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps"))
            errors.Add("Lenta__Queue__ConnectionString: rabbitmq needs an amqp:// or amqps:// URI.");
        if (o.PollIntervalMs < 10)
            errors.Add("Lenta__Queue__PollIntervalMs: must be at least 10.");
        if (o.LeaseSeconds < 3)
            errors.Add("Lenta__Queue__LeaseSeconds: must be at least 3.");
        if (o.MaxAttempts < 1)
            errors.Add("Lenta__Queue__MaxAttempts: must be at least 1.");
        if (o.BackoffBaseMs < 0)
            errors.Add("Lenta__Queue__BackoffBaseMs: must not be negative.");
        foreach (var (queue, n) in o.Concurrency)
        {
            if (n < 1)
                errors.Add($"Lenta__Queue__Concurrency__{queue}: must be at least 1.");
        }
        foreach (var (queue, n) in o.Batch)
        {
            if (n is < 1 or > 1000)
                errors.Add($"Lenta__Queue__Batch__{queue}: must be between 1 and 1000.");
        }
        return Result(errors);
    }

    private static ValidateOptionsResult Result(List<string> errors) =>
        errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
