namespace Lenta.Tests.Infrastructure;

/// <summary>
/// The settings of a server split over processes: PostgreSQL (a fresh database), Redis (a key prefix of its own),
/// RabbitMQ (a queue prefix of its own) and S3 (a fresh pair of buckets). Processes that play some roles only refuse the
/// embedded stores (docs/DEPLOY.md), so every test that splits roles starts from these; every process of one test gets the same.
/// </summary>
public static class Distributed
{
    public static async Task<Dictionary<string, string?>> SettingsAsync(string? amqp = null, string? rawBucket = null, string? processedBucket = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Lenta:RateLimits:Enabled"] = "false",
            ["Lenta:Database:Provider"] = "postgres",
            ["Lenta:Database:ConnectionString"] = await Postgres.CreateDatabaseAsync(),
            ["Lenta:Queue:Provider"] = "rabbitmq",
            ["Lenta:Queue:ConnectionString"] = amqp ?? RabbitMq.Uri,
            ["Lenta:Queue:QueuePrefix"] = RabbitMq.NewPrefix(),
            ["Lenta:Queue:PollIntervalMs"] = "100",
        };
        foreach (var (key, value) in Redis.ServerSettings(Redis.Single))
            settings[key] = value;
        foreach (var (key, value) in S3.ServerSettings(rawBucket ?? S3.NewBucket("raw"), processedBucket ?? S3.NewBucket("processed")))
            settings[key] = value;
        return settings;
    }

    /// <summary>The same settings with this process's roles and node number.</summary>
    public static Dictionary<string, string?> With(Dictionary<string, string?> settings, string roles, int node) =>
        new(settings) { ["Lenta:Roles"] = roles, ["Lenta:NodeId"] = node.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    /// <summary>Settings as a separate process's environment (<c>Lenta:Queue:Provider</c> = <c>Lenta__Queue__Provider</c>).</summary>
    public static Dictionary<string, string> Env(Dictionary<string, string?> settings) =>
        settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value ?? "");
}
