using Lenta.Server.Platform.Hosting;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Lenta.Tests.Platform;

/// <summary>Misconfiguration stops the real server process at start, with a message that names the setting.</summary>
public sealed class StartupTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static async Task AssertRefusesAsync(Dictionary<string, string> env, string setting)
    {
        var data = TempFolder.Create("lenta-start");
        env.TryAdd("Lenta__DataPath", data);
        var (code, output) = await ServerProcess.RunToExitAsync(env, Limit);
        TempFolder.Delete(data);
        Assert.NotEqual(0, code);
        Assert.Contains($"Lenta cannot start: ", output, StringComparison.Ordinal);
        Assert.Contains(setting, output, StringComparison.Ordinal);
    }

    [Fact]
    public Task An_unknown_database_provider_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__Database__Provider"] = "oracle" }, "Lenta__Database__Provider");

    [Fact]
    public Task An_unknown_cache_provider_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__Cache__Provider"] = "memcached" }, "Lenta__Cache__Provider");

    [Fact]
    public Task An_unknown_object_store_provider_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__ObjectStore__Provider"] = "ftp" }, "Lenta__ObjectStore__Provider");

    [Fact]
    public Task An_s3_service_that_cannot_be_reached_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__ObjectStore__Provider"] = "s3", ["Lenta__ObjectStore__ServiceUrl"] = "http://127.0.0.1:9", ["Lenta__ObjectStore__AccessKey"] = "k", ["Lenta__ObjectStore__SecretKey"] = "s" },
            "Lenta__ObjectStore__ServiceUrl");

    [Fact]
    public async Task An_s3_service_that_refuses_the_access_key_is_named_with_the_bucket()
    {
        // s3rver refuses an access key it does not know (403 InvalidAccessKeyId); it does not check the secret.
        var bucket = S3.NewBucket("refused");
        var data = TempFolder.Create("lenta-start");
        var (code, output) = await ServerProcess.RunToExitAsync(new Dictionary<string, string>
        {
            ["Lenta__DataPath"] = data, ["Lenta__ObjectStore__Provider"] = "s3", ["Lenta__ObjectStore__ServiceUrl"] = S3.ServiceUrl,
            ["Lenta__ObjectStore__AccessKey"] = "NOT-A-KEY", ["Lenta__ObjectStore__SecretKey"] = S3.SecretKey, ["Lenta__ObjectStore__RawBucket"] = bucket,
        }, Limit);
        TempFolder.Delete(data);
        Assert.NotEqual(0, code);
        Assert.Contains($"Lenta cannot start: Lenta__ObjectStore__ServiceUrl / __RawBucket / __ProcessedBucket / __AccessKey: bucket '{bucket}'", output, StringComparison.Ordinal);
        Assert.Contains("403", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Lenta__ObjectStore__RawBucket", "Not_A_Bucket")]
    [InlineData("Lenta__ObjectStore__ProcessedBucket", "x")]
    [InlineData("Lenta__ObjectStore__ServiceUrl", "ftp://files")]
    [InlineData("Lenta__ObjectStore__AccessKey", "only-the-key")]
    public Task Bad_s3_settings_are_named(string setting, string value) =>
        AssertRefusesAsync(new() { ["Lenta__ObjectStore__Provider"] = "s3", [setting] = value }, setting);

    [Fact]
    public Task An_unknown_queue_provider_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__Queue__Provider"] = "carrier-pigeon" }, "Lenta__Queue__Provider");

    [Fact]
    public Task An_unknown_queue_provider_is_named_on_a_process_without_the_worker_role() =>
        // No worker to resolve the queue's consumer side: the start is refused all the same. Split roles need the
        // other stores shared (never reached: the settings are refused first).
        AssertRefusesAsync(new()
        {
            ["Lenta__Queue__Provider"] = "carrier-pigeon", ["Lenta__Roles"] = "read-api",
            ["Lenta__Database__Provider"] = "postgres", ["Lenta__Database__ConnectionString"] = $"Host=127.0.0.1;Port={ServerProcess.FreePort()};Username=nobody",
            ["Lenta__Cache__Provider"] = "redis", ["Lenta__Cache__ConnectionString"] = $"127.0.0.1:{ServerProcess.FreePort()},abortConnect=false",
            ["Lenta__ObjectStore__Provider"] = "s3", ["Lenta__ObjectStore__ServiceUrl"] = "http://127.0.0.1:9", ["Lenta__ObjectStore__AccessKey"] = "k", ["Lenta__ObjectStore__SecretKey"] = "s",
        }, "Lenta__Queue__Provider");

    [Fact]
    public void The_queue_switch_itself_names_the_setting_for_an_unknown_provider()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Lenta:Queue:Provider"] = "carrier-pigeon" }).Build();
        using var services = new ServiceCollection().AddLentaPlatform(config).BuildServiceProvider();
        foreach (var port in new[] { typeof(IJobQueue), typeof(IJobSource) })
        {
            var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService(port));
            Assert.StartsWith("Lenta__Queue__Provider: unknown provider 'carrier-pigeon'", refused.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("read-api")]
    [InlineData("write-api,read-api")]
    [InlineData("worker")]
    public async Task A_process_of_split_roles_refuses_every_embedded_store_naming_its_setting(string roles)
    {
        // A second machine could share none of them: the SQLite file, the process's memory, its local queue, its folders.
        var data = TempFolder.Create("lenta-start");
        var (code, output) = await ServerProcess.RunToExitAsync(new Dictionary<string, string> { ["Lenta__DataPath"] = data, ["Lenta__Roles"] = roles }, Limit);
        TempFolder.Delete(data);
        Assert.Equal(2, code);
        foreach (var setting in new[] { "Lenta__Database__Provider", "Lenta__Cache__Provider", "Lenta__Queue__Provider", "Lenta__ObjectStore__Provider" })
            Assert.Contains($"Lenta cannot start: {setting}: Lenta__Roles is '{roles}'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_split_process_names_only_the_store_left_embedded()
    {
        // Every other store distributed (never reached: the settings are refused before anything is opened).
        var data = TempFolder.Create("lenta-start");
        var (code, output) = await ServerProcess.RunToExitAsync(new Dictionary<string, string>
        {
            ["Lenta__DataPath"] = data, ["Lenta__Roles"] = "worker",
            ["Lenta__Database__Provider"] = "postgres", ["Lenta__Database__ConnectionString"] = $"Host=127.0.0.1;Port={ServerProcess.FreePort()};Username=nobody",
            ["Lenta__Queue__Provider"] = "rabbitmq", ["Lenta__Queue__ConnectionString"] = $"amqp://guest:guest@127.0.0.1:{ServerProcess.FreePort()}/",
            ["Lenta__ObjectStore__Provider"] = "s3", ["Lenta__ObjectStore__ServiceUrl"] = "http://127.0.0.1:9", ["Lenta__ObjectStore__AccessKey"] = "k", ["Lenta__ObjectStore__SecretKey"] = "s",
        }, Limit);
        TempFolder.Delete(data);
        Assert.Equal(2, code);
        Assert.Contains("Lenta cannot start: Lenta__Cache__Provider: Lenta__Roles is 'worker'", output, StringComparison.Ordinal);
        Assert.Contains("use redis", output, StringComparison.Ordinal);
        foreach (var other in new[] { "Lenta__Database__Provider", "Lenta__Queue__Provider", "Lenta__ObjectStore__Provider" })
            Assert.DoesNotContain(other, output, StringComparison.Ordinal);
    }

    [Fact]
    public Task An_unknown_role_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__Roles"] = "read-api,chef" }, "Lenta__Roles");

    [Fact]
    public Task A_node_number_out_of_range_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__NodeId"] = "4096" }, "Lenta__NodeId");

    [Fact]
    public Task An_unreachable_postgresql_is_named() =>
        AssertRefusesAsync(new()
        {
            ["Lenta__Database__Provider"] = "postgres",
            ["Lenta__Database__ConnectionString"] = $"Host=127.0.0.1;Port={ServerProcess.FreePort()};Username=nobody;Timeout=3",
        }, "Lenta__Database__ConnectionString");

    [Fact]
    public Task An_unreachable_rabbitmq_is_named() =>
        AssertRefusesAsync(new()
        {
            ["Lenta__Queue__Provider"] = "rabbitmq",
            ["Lenta__Queue__ConnectionString"] = $"amqp://guest:guest@127.0.0.1:{ServerProcess.FreePort()}/",
        }, "Lenta__Queue__ConnectionString");

    [Fact]
    public Task A_postgres_provider_without_a_connection_string_is_named() =>
        AssertRefusesAsync(new() { ["Lenta__Database__Provider"] = "postgres" }, "Lenta__Database__ConnectionString");

    [Fact]
    public async Task An_unwritable_data_folder_is_named()
    {
        // Root may write anywhere, so make the folder impossible instead: a path through a regular file.
        var file = Path.Combine(Path.GetTempPath(), $"lenta-not-a-folder-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "x");
        try
        {
            await AssertRefusesAsync(new() { ["Lenta__DataPath"] = Path.Combine(file, "data") }, "Lenta__DataPath");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
