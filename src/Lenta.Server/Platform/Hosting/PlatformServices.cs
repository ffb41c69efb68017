using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Events;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Jobs.RabbitMq;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;
using Npgsql;
using IConnectionMultiplexer = StackExchange.Redis.IConnectionMultiplexer;

namespace Lenta.Server.Platform.Hosting;

/// <summary>The one place where each port's adapter is chosen from configuration.</summary>
public static class PlatformServices
{
    public static IServiceCollection AddLentaPlatform(this IServiceCollection services, IConfiguration config)
    {
        // Columns are snake_case, C# properties PascalCase.
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        services.AddOptions<LentaOptions>().Bind(config.GetSection(LentaOptions.Section)).ValidateOnStart();
        services.AddOptions<DatabaseOptions>().Bind(config.GetSection(DatabaseOptions.Section)).ValidateOnStart();
        services.AddOptions<CacheOptions>().Bind(config.GetSection(CacheOptions.Section)).ValidateOnStart();
        services.AddOptions<ObjectStoreOptions>().Bind(config.GetSection(ObjectStoreOptions.Section)).ValidateOnStart();
        services.AddOptions<JobQueueOptions>().Bind(config.GetSection(JobQueueOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LentaOptions>, SettingsValidator>();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, SettingsValidator>();
        services.AddSingleton<IValidateOptions<CacheOptions>, SettingsValidator>();
        services.AddSingleton<IValidateOptions<ObjectStoreOptions>, SettingsValidator>();
        services.AddSingleton<IValidateOptions<JobQueueOptions>, SettingsValidator>();
        services.AddSingleton<IValidateOptions<LentaOptions>>(new SplitRolesValidator(config));

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new IdGenerator(sp.GetRequiredService<IOptions<LentaOptions>>().Value.NodeId));

        services.AddSingleton<IDatabase>(CreateDatabase);
        services.AddSingleton<DatabaseMigrator>();

        // One Redis connection per process, shared by the cache and the event bus (resolved only when the cache is on Redis).
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var cache = sp.GetRequiredService<IOptions<CacheOptions>>().Value;
            return RedisCache.Connect(cache.ConnectionString, TimeSpan.FromMilliseconds(cache.TimeoutMs));
        });
        services.AddSingleton<ICache>(CreateCache);
        services.AddSingleton<IEventBus>(CreateEventBus);

        services.AddSingleton<ObjectStores>(CreateObjectStores);

        AddJobQueue(services, config);

        services.AddHostedService<StartupChecks>();
        // After the checks, which migrate the jobs table the relay reads; on every process, whatever its roles.
        if (config.GetSection(JobQueueOptions.Section)[nameof(JobQueueOptions.Provider)] == "rabbitmq")
            services.AddHostedService<RabbitJobRelay>();
        return services;
    }

    /// <summary>Adds this process's job workers when its roles include <c>worker</c>.</summary>
    public static IServiceCollection AddLentaWorkers(this IServiceCollection services, ServerRoles roles)
    {
        if (roles.HasFlag(ServerRoles.Worker))
            services.AddHostedService<JobWorker>();
        return services;
    }

    /// <summary>
    /// The job queue's adapter, from <c>Lenta__Queue__Provider</c>: its services are registered here only, and modules
    /// see it through <see cref="IJobQueue"/> (wrapped to run in-process jobs) and the worker through <see cref="IJobSource"/>.
    /// </summary>
    private static void AddJobQueue(IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<JobSignal>();
        var provider = config.GetSection(JobQueueOptions.Section)[nameof(JobQueueOptions.Provider)] ?? new JobQueueOptions().Provider;
        switch (provider)
        {
            case "local":
                services.AddSingleton<IMigrationSource, JobsMigrations>();
                services.AddSingleton<LocalJobQueue>();
                services.AddSingleton<IJobSource>(sp => sp.GetRequiredService<LocalJobQueue>());
                AddInProcessJobs(services, sp => sp.GetRequiredService<LocalJobQueue>());
                break;
            case "rabbitmq":
                // The jobs table is the outbox and each job's record (RabbitJobQueue).
                services.AddSingleton<IMigrationSource, JobsMigrations>();
                services.AddSingleton<RabbitJobQueue>();
                services.AddSingleton<IJobSource>(sp => sp.GetRequiredService<RabbitJobQueue>());
                AddInProcessJobs(services, sp => sp.GetRequiredService<RabbitJobQueue>());
                break;
            default:
                // The settings check stops the start before anything resolves these; until then they keep the service
                // graph whole, so that check is what reports the value.
                services.AddSingleton<IJobSource>(_ => throw UnknownQueueProvider(provider));
                AddInProcessJobs(services, _ => throw UnknownQueueProvider(provider));
                break;
        }
    }

    private static void AddInProcessJobs(IServiceCollection services, Func<IServiceProvider, IJobQueue> durable)
    {
        services.AddSingleton(sp => new InProcessJobs(durable(sp), sp.GetRequiredService<IDatabase>(), sp.GetRequiredService<JobSignal>(), sp.GetRequiredService<IOptions<JobQueueOptions>>()));
        services.AddSingleton<IJobQueue>(sp => sp.GetRequiredService<InProcessJobs>());
    }

    private static OptionsValidationException UnknownQueueProvider(string provider) =>
        new(JobQueueOptions.Section, typeof(JobQueueOptions), [$"Lenta__Queue__Provider: unknown provider '{provider}'."]);

    private static IDatabase CreateDatabase(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var lenta = sp.GetRequiredService<IOptions<LentaOptions>>().Value;
        switch (options.Provider)
        {
            case "sqlite":
                var cs = string.IsNullOrWhiteSpace(options.ConnectionString)
                    ? $"Data Source={Path.Combine(Path.GetFullPath(lenta.DataPath), "lenta.db")}"
                    : options.ConnectionString;
                try
                {
                    return new SqliteDatabase(cs, options.MaxWriteBatch, sp.GetRequiredService<ILogger<SqliteDatabase>>());
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
                {
                    // Resolved while the host builds its services, before StartupChecks can name the setting.
                    throw new StartupFailedException($"Lenta__DataPath / Lenta__Database__ConnectionString: cannot open the SQLite database ({e.Message}).", e);
                }
            case "postgres":
                return new PostgresDatabase(PostgresDatabase.CreateDataSource(options.ConnectionString), sp.GetRequiredService<ILogger<PostgresDatabase>>());
            default:
                throw new OptionsValidationException(DatabaseOptions.Section, typeof(DatabaseOptions), [$"Lenta__Database__Provider: unknown provider '{options.Provider}'."]);
        }
    }

    private static ICache CreateCache(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<CacheOptions>>().Value;
        return options.Provider switch
        {
            "memory" => new MemoryCache(options.MaxBytes),
            "redis" => new RedisCache(sp.GetRequiredService<IConnectionMultiplexer>(), options.KeyPrefix, sp.GetRequiredService<ILogger<RedisCache>>()),
            var p => throw new OptionsValidationException(CacheOptions.Section, typeof(CacheOptions), [$"Lenta__Cache__Provider: unknown provider '{p}'."]),
        };
    }

    /// <summary>The event bus follows the cache: across processes on Redis pub/sub when the cache is shared on Redis,
    /// else within this process (the embedded stores serve one process).</summary>
    private static IEventBus CreateEventBus(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<CacheOptions>>().Value;
        return options.Provider == "redis"
            ? new RedisEventBus(sp.GetRequiredService<IConnectionMultiplexer>(), options.KeyPrefix, sp.GetRequiredService<ILogger<RedisEventBus>>())
            : new InProcessEventBus(sp.GetRequiredService<ILogger<InProcessEventBus>>());
    }

    private static ObjectStores CreateObjectStores(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<ObjectStoreOptions>>().Value;
        var lenta = sp.GetRequiredService<IOptions<LentaOptions>>().Value;
        switch (options.Provider)
        {
            case "disk":
                var root = Path.Combine(Path.GetFullPath(lenta.DataPath), "objects");
                return new ObjectStores(new DiskObjectStore(Path.Combine(root, "raw")), new DiskObjectStore(Path.Combine(root, "processed")));
            case "s3":
                // One client (and its connection pool) for both buckets; originals get no Cache-Control, they are never served.
                var client = S3ObjectStore.CreateClient(options);
                return new ObjectStores(new S3ObjectStore(client, options.RawBucket, null), new S3ObjectStore(client, options.ProcessedBucket, ObjectContentTypes.Immutable));
            default:
                throw new OptionsValidationException(ObjectStoreOptions.Section, typeof(ObjectStoreOptions), [$"Lenta__ObjectStore__Provider: unknown provider '{options.Provider}'."]);
        }
    }
}
