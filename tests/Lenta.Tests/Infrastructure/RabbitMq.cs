namespace Lenta.Tests.Infrastructure;

/// <summary>
/// The RabbitMQ node the test command started: <c>LENTA_TEST_RABBITMQ</c>, an <c>amqp://</c> URI. Callers isolate
/// themselves by queue-name prefix. Without it the RabbitMQ tests are skipped, unless <c>LENTA_TEST_REQUIRE_RABBITMQ=1</c>
/// (the test command, CI) makes that a failure.
/// </summary>
public static class RabbitMq
{
    public static string Uri
    {
        get
        {
            if (Environment.GetEnvironmentVariable("LENTA_TEST_RABBITMQ") is { Length: > 0 } uri)
                return uri;
            if (Environment.GetEnvironmentVariable("LENTA_TEST_REQUIRE_RABBITMQ") == "1")
                throw new InvalidOperationException("LENTA_TEST_REQUIRE_RABBITMQ=1 but LENTA_TEST_RABBITMQ is not set.");
            Assert.Skip("RabbitMQ not available: run the tests through ./test.sh (sets LENTA_TEST_RABBITMQ).");
            return "";
        }
    }

    /// <summary>A queue-name prefix no other test uses.</summary>
    public static string NewPrefix() => $"t{Guid.NewGuid():N}.";
}
