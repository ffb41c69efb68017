using System.Net.Sockets;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lenta.Server.Platform.Hosting;

/// <summary>
/// Runs before the server listens: proves the data folder is writable, opens the database and migrates it,
/// and opens the object stores (making their folders or buckets when missing). Any failure stops the start with a message naming the setting to fix.
/// </summary>
public sealed class StartupChecks(IServiceProvider services, IOptions<LentaOptions> lenta, IOptions<DatabaseOptions> dbOptions, ILogger<StartupChecks> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var dataPath = Path.GetFullPath(lenta.Value.DataPath);
        try
        {
            Directory.CreateDirectory(dataPath);
            var probe = Path.Combine(dataPath, $".write-probe-{Environment.ProcessId}");
            await File.WriteAllTextAsync(probe, "ok", ct);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupFailedException($"Lenta__DataPath: the data folder '{dataPath}' is not writable ({e.Message}).", e);
        }

        try
        {
            var db = services.GetRequiredService<IDatabase>();
            await db.PingAsync(ct);
            var applied = await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
            log.LogInformation("Database {Provider} ready ({Applied} migrations applied now)", db.Provider, applied.Count);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException && e is not StartupFailedException)
        {
            var setting = dbOptions.Value.Provider == "postgres" ? "Lenta__Database__ConnectionString" : "Lenta__Database__ConnectionString / Lenta__DataPath";
            throw new StartupFailedException($"{setting}: cannot open the {dbOptions.Value.Provider} database ({e.Message}).", e);
        }

        var stores = services.GetRequiredService<ObjectStores>();
        try
        {
            await stores.Raw.CreateIfMissingAsync(ct);
            await stores.Processed.CreateIfMissingAsync(ct);
            await stores.Raw.PingAsync(ct);
            await stores.Processed.PingAsync(ct);
        }
        catch (ObjectStoreUnavailableException e)
        {
            throw new StartupFailedException($"Lenta__ObjectStore__ServiceUrl / __RawBucket / __ProcessedBucket / __AccessKey: {e.Message}.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupFailedException($"Lenta__DataPath: the object store folders under '{dataPath}' are not writable ({e.Message}).", e);
        }

        // Every queue some handler takes, whether or not this process runs workers: a producer may publish first.
        var queues = services.GetServices<IJobHandler>().Select(h => h.Queue).Distinct(StringComparer.Ordinal).ToList();
        try
        {
            await services.GetRequiredService<IJobQueue>().PrepareAsync(queues, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new StartupFailedException($"Lenta__Queue__ConnectionString: cannot set up the job queues ({e.Message}).", e);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>The server cannot start as configured; the message names the setting.</summary>
public sealed class StartupFailedException(string message, Exception inner) : Exception(message, inner);
