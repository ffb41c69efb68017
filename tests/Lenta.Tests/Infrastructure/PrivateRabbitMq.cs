namespace Lenta.Tests.Infrastructure;

/// <summary>
/// A RabbitMQ node of one test's own, for tests that restart the broker under a running server without disturbing the
/// shared node: <c>scripts/rabbitmq.sh</c> on the spare directory and port the test command gives
/// (<c>LENTA_TEST_RABBITMQ_SCRIPT</c>, <c>LENTA_TEST_RABBITMQ_SPARE_DIR</c>, <c>LENTA_TEST_RABBITMQ_SPARE_PORT</c>).
/// One at a time: the tests that use it are in one collection.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private readonly string _script;
    private readonly string _dir;

    private PrivateRabbitMq(string script, string dir, string uri)
    {
        _script = script;
        _dir = dir;
        Uri = uri;
    }

    /// <summary>The node's <c>amqp://</c> URI; the same after a restart.</summary>
    public string Uri { get; }

    public static async Task<PrivateRabbitMq> StartAsync()
    {
        _ = RabbitMq.Uri; // skips (or fails under the test command) where RabbitMQ is not set up
        var script = Environment.GetEnvironmentVariable("LENTA_TEST_RABBITMQ_SCRIPT");
        var dir = Environment.GetEnvironmentVariable("LENTA_TEST_RABBITMQ_SPARE_DIR");
        var port = Environment.GetEnvironmentVariable("LENTA_TEST_RABBITMQ_SPARE_PORT");
        if (string.IsNullOrEmpty(script) || string.IsNullOrEmpty(dir) || string.IsNullOrEmpty(port))
            throw new InvalidOperationException("LENTA_TEST_RABBITMQ_SCRIPT, _SPARE_DIR and _SPARE_PORT must be set (./test.sh sets them).");
        return new PrivateRabbitMq(script, dir, await RunAsync(script, "start", dir, port));
    }

    /// <summary>Stops the node and starts it again on the same data, as an operator's restart would.</summary>
    public Task RestartAsync() => RunAsync(_script, "restart", _dir);

    private static async Task<string> RunAsync(string script, params string[] args)
    {
        var (code, stdout, stderr) = await RepoScripts.RunAsync(script, args, Timeout.InfiniteTimeSpan);
        if (code != 0)
            throw new InvalidOperationException($"rabbitmq.sh {string.Join(' ', args)} failed ({code}): {stderr}");
        return stdout.Trim().Split('\n')[^1];
    }

    public async ValueTask DisposeAsync() => await RunAsync(_script, "stop", _dir);
}
