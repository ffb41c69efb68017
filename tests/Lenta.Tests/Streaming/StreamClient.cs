using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Lenta.Tests.Streaming;

/// <summary>A streaming client on .NET's ClientWebSocket: every frame the server sends is kept, in order, to be awaited.</summary>
public sealed class StreamClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonElement> _frames = Channel.CreateUnbounded<JsonElement>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    private StreamClient(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveAsync();
    }

    public ClientWebSocket Socket => _socket;

    /// <summary>Connects to <c>/api/v1/streaming</c> of <paramref name="server"/> with <paramref name="query"/> (e.g. <c>access_token=…&amp;stream=user</c>).</summary>
    public static async Task<StreamClient> ConnectAsync(Uri server, string query, Action<ClientWebSocketOptions>? options = null, string path = "api/v1/streaming")
    {
        var socket = new ClientWebSocket();
        options?.Invoke(socket.Options);
        var uri = new UriBuilder(new Uri(server, path)) { Scheme = "ws", Query = query }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None);
        return new StreamClient(socket);
    }

    public Task SendAsync(object message) =>
        _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next frame that satisfies <paramref name="match"/> (frames before it are passed over), or a failure after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var frame = await _frames.Reader.ReadAsync(cts.Token);
                if (match(frame))
                    return frame;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No frame with {what} within {timeout.TotalMilliseconds} ms");
        }
    }

    /// <summary>Frames received so far and not yet taken by <see cref="NextAsync"/>.</summary>
    public List<JsonElement> Drain()
    {
        var list = new List<JsonElement>();
        while (_frames.Reader.TryRead(out var f))
            list.Add(f);
        return list;
    }

    /// <summary>The status a frame's payload carries (the payload is JSON in a string).</summary>
    public static JsonElement Payload(JsonElement frame) => JsonDocument.Parse(frame.GetProperty("payload").GetString()!).RootElement;

    public static bool Is(JsonElement frame, string @event, string stream) =>
        frame.TryGetProperty("event", out var e) && e.GetString() == @event
        && frame.GetProperty("stream")[0].GetString() == stream;

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var r = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close)
                    break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage)
                    continue;
                _frames.Writer.TryWrite(JsonDocument.Parse(Encoding.UTF8.GetString(message.ToArray())).RootElement.Clone());
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        _frames.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                // Output only: the receive loop takes the server's close frame and ends.
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
                await _receiving.WaitAsync(cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or TimeoutException)
            {
            }
        }
        await _stop.CancelAsync();
        await _receiving;
        _socket.Dispose();
        _stop.Dispose();
    }
}
