using Lenta.Server.Platform.Cache;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// The Redis servers the test command started: <c>LENTA_TEST_REDIS</c> (one server) and <c>LENTA_TEST_REDIS_CLUSTER</c>
/// (a three-master Redis Cluster), StackExchange.Redis configuration strings. Callers isolate themselves by key prefix.
/// Without them the Redis tests are skipped, unless <c>LENTA_TEST_REQUIRE_REDIS=1</c> (the test command, CI) makes that a
/// failure.
/// </summary>
public static class Redis
{
    public static string Single => Configuration("LENTA_TEST_REDIS");

    public static string Cluster => Configuration("LENTA_TEST_REDIS_CLUSTER");

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix() => $"t{Guid.NewGuid():N}:";

    /// <summary>A cache on <paramref name="configuration"/> under <paramref name="prefix"/>, as a server process would make it.</summary>
    public static RedisCache Connect(string configuration, string prefix) =>
        new(RedisCache.Connect(configuration, TimeSpan.FromSeconds(5)), prefix, NullLogger<RedisCache>.Instance);

    /// <summary>The settings that put a test server's cache on Redis, under a prefix of its own.</summary>
    public static Dictionary<string, string?> ServerSettings(string configuration) => new()
    {
        ["Lenta:Cache:Provider"] = "redis",
        ["Lenta:Cache:ConnectionString"] = configuration,
        ["Lenta:Cache:KeyPrefix"] = NewPrefix(),
    };

    private static string Configuration(string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configuration)
            return configuration;
        if (Environment.GetEnvironmentVariable("LENTA_TEST_REQUIRE_REDIS") == "1")
            throw new InvalidOperationException($"LENTA_TEST_REQUIRE_REDIS=1 but {variable} is not set.");
        Assert.Skip($"Redis not available: run the tests through ./test.sh (sets {variable}).");
        return "";
    }
}
