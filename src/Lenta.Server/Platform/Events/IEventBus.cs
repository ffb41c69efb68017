namespace Lenta.Server.Platform.Events;

/// <summary>
/// Live messages to every process that shares the bus, for what a client watches as it happens (the streaming API).
/// Best effort by design: no message is stored, a process that is down or disconnected when one is published misses
/// it, and nothing is redelivered. What must not be lost goes through the database and the job queue instead.
/// </summary>
public interface IEventBus
{
    /// <summary>Hands <paramref name="message"/> to every subscriber of <paramref name="topic"/>, in this process and in
    /// every other one on the bus; a bus that cannot be reached drops it (logged), never throws.</summary>
    Task PublishAsync(string topic, byte[] message);

    /// <summary>Calls <paramref name="handler"/> with each message of <paramref name="topic"/>, one at a time and in the order one
    /// publisher published them, until the result is disposed. Handlers must return quickly (hand the message on to a
    /// queue of their own).</summary>
    IDisposable Subscribe(string topic, Action<byte[]> handler);
}
