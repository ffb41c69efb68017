namespace Lenta.Server.Platform.Jobs.RabbitMq;

/// <summary>Runs <see cref="RabbitJobQueue"/>'s outbox relay for the host's lifetime, and closes its connection at the end.</summary>
public sealed class RabbitJobRelay(RabbitJobQueue queue) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        queue.StartRelay();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => queue.DisposeAsync().AsTask();
}
