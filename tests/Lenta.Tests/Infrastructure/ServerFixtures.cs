using Lenta.Server.Platform.Database;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// One real server per test class, on the engine the subclass names; on PostgreSQL in front mode
/// (<c>LENTA_TEST_FRONT=nginx</c>), the cluster of <see cref="Front"/> behind nginx instead.
/// </summary>
public abstract class ServerFixture(DbProvider provider) : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public DbProvider Provider => provider;

    public Mastodon Client => new(Server.Http);

    protected virtual Dictionary<string, string?> Settings() => new() { ["Lenta:RateLimits:Enabled"] = "false" };

    /// <summary>Adjusts the server's services before it starts (a recording log provider, a wrapped port).</summary>
    protected virtual void Decorate(IServiceCollection services)
    {
    }

    public async ValueTask InitializeAsync()
    {
        var settings = Settings();
        if (provider == DbProvider.Postgres && Front.Enabled)
        {
            Server = await Front.StartAsync(settings, Decorate);   // on a fresh database of its own
            return;
        }
        if (provider == DbProvider.Postgres)
        {
            settings["Lenta:Database:Provider"] = "postgres";
            settings["Lenta:Database:ConnectionString"] = await Postgres.CreateDatabaseAsync();
        }
        Server = await TestServer.StartAsync(settings, decorate: Decorate);
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
            await Server.DisposeAsync();
    }
}

public sealed class SqliteServer() : ServerFixture(DbProvider.Sqlite);

/// <summary>A server whose log lines (Warning and up, as configured) are kept in <see cref="Logs"/>.</summary>
public abstract class ServerWithLogs(DbProvider provider) : ServerFixture(provider)
{
    public RecordingLogs Logs { get; } = new();

    protected override void Decorate(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);
}

public sealed class SqliteServerWithLogs() : ServerWithLogs(DbProvider.Sqlite);

public sealed class PostgresServerWithLogs() : ServerWithLogs(DbProvider.Postgres);

public sealed class PostgresServer() : ServerFixture(DbProvider.Postgres);

/// <summary>A PostgreSQL server whose caches are on the test Redis, under a key prefix of its own.</summary>
public sealed class PostgresRedisServer() : ServerFixture(DbProvider.Postgres)
{
    protected override Dictionary<string, string?> Settings()
    {
        var settings = base.Settings();
        foreach (var (key, value) in Redis.ServerSettings(Redis.Single))
            settings[key] = value;
        return settings;
    }
}

/// <summary>A PostgreSQL server whose object stores are two fresh buckets on the test S3 server, which it creates at start.</summary>
public class PostgresS3Server() : ServerFixture(DbProvider.Postgres)
{
    public string RawBucket { get; } = S3.NewBucket("raw");

    public string ProcessedBucket { get; } = S3.NewBucket("processed");

    protected override Dictionary<string, string?> Settings()
    {
        var settings = base.Settings();
        foreach (var (key, value) in S3.ServerSettings(RawBucket, ProcessedBucket))
            settings[key] = value;
        return settings;
    }
}

/// <summary>As <see cref="PostgresS3Server"/>, with media URLs on the processed bucket itself (the S3 server as the CDN).</summary>
public sealed class PostgresS3CdnServer : PostgresS3Server
{
    protected override Dictionary<string, string?> Settings()
    {
        var settings = base.Settings();
        settings["Lenta:Media:BaseUrl"] = $"{S3.ServiceUrl}/{ProcessedBucket}";
        return settings;
    }
}
