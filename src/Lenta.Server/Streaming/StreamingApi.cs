using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Lenta.Server.Api;
using Lenta.Server.Notifications;
using Lenta.Server.Posts;

namespace Lenta.Server.Streaming;

/// <summary>
/// Mastodon's streaming API (docs.joinmastodon.org/methods/streaming): one WebSocket at <c>/api/v1/streaming</c> with
/// subscribe/unsubscribe messages, and server-sent events per stream. Every stream needs a user's token with a read
/// scope, as Mastodon's streaming server asks for one on every stream: <c>Authorization: Bearer</c>, <c>?access_token=</c>,
/// or (browsers cannot set headers on a WebSocket) the <c>Sec-WebSocket-Protocol</c> header, which is echoed back as the
/// chosen subprotocol.
/// </summary>
public static class StreamingApi
{
    /// <summary>WebSocket pings (and event-stream heartbeats) keep idle connections through proxies and find dead peers.</summary>
    public static readonly TimeSpan Ping = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    private const string ProtocolTokenKey = "lenta.streaming.protocol-token";

    private const int MaxClientMessage = 16 * 1024;

    private static readonly string[] ReadScopes = ["read", "read:statuses", "read:notifications"];

    public static IServiceCollection AddLentaStreaming(this IServiceCollection services)
    {
        services.AddSingleton<StreamingPublisher>();
        services.AddSingleton<IPostObserver>(sp => sp.GetRequiredService<StreamingPublisher>());
        services.AddSingleton<INotificationObserver>(sp => sp.GetRequiredService<StreamingPublisher>());
        services.AddSingleton<Conversations.IConversationObserver>(sp => sp.GetRequiredService<StreamingPublisher>());
        services.AddSingleton<StreamingMetrics>();
        services.AddSingleton<StreamingHub>();
        services.AddSingleton<StreamRenderer>();
        return services;
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/streaming/health", () => Results.Text("OK", "text/plain; charset=utf-8"));
        Authorized(api.MapGet("/v1/streaming", WebSocketAsync));
        Authorized(api.MapGet("/v1/streaming/user", (HttpContext c, StreamingHub h, StreamRenderer r, StreamingMetrics m) => EventStreamAsync(c, h, r, m, Subscription.User)));
        Authorized(api.MapGet("/v1/streaming/user/notification", (HttpContext c, StreamingHub h, StreamRenderer r, StreamingMetrics m) => EventStreamAsync(c, h, r, m, Subscription.UserNotification)));
        Authorized(api.MapGet("/v1/streaming/public", (HttpContext c, StreamingHub h, StreamRenderer r, StreamingMetrics m) => EventStreamAsync(c, h, r, m, Subscription.Public)));
        Authorized(api.MapGet("/v1/streaming/public/local", (HttpContext c, StreamingHub h, StreamRenderer r, StreamingMetrics m) => EventStreamAsync(c, h, r, m, Subscription.PublicLocal)));
        Authorized(api.MapGet("/v1/streaming/hashtag", (HttpContext c, StreamingHub h, StreamRenderer r, StreamingMetrics m) => EventStreamAsync(c, h, r, m, Subscription.Hashtag)));
        Authorized(api.MapGet("/v1/streaming/direct", (HttpContext c, StreamingHub h, StreamRenderer r, StreamingMetrics m) => EventStreamAsync(c, h, r, m, Subscription.Direct)));
        Authorized(api.MapGet("/v1/streaming/hashtag/local", (HttpContext c, StreamingHub h, StreamRenderer r, StreamingMetrics m) => EventStreamAsync(c, h, r, m, Subscription.HashtagLocal)));
    }

    public static void MapDiagnostics(WebApplication app) =>
        app.MapGet("/_diag/streaming", (StreamingMetrics metrics) =>
        {
            var lag = metrics.Lag();
            return Results.Text(JsonSerializer.Serialize(new Dictionary<string, double>
            {
                ["open_sockets"] = metrics.OpenSockets,
                ["open_event_streams"] = metrics.OpenEventStreams,
                ["delivered"] = metrics.Delivered,
                ["dropped"] = metrics.Dropped,
                ["lag_ms_p50"] = lag.P50,
                ["lag_ms_p99"] = lag.P99,
                ["lag_ms_max"] = lag.Max,
                ["lag_samples"] = lag.Samples,
            }, StreamingDiagJson.Default.DictionaryStringDouble), "application/json");
        });

    /// <summary>The token from <c>Sec-WebSocket-Protocol</c> when neither the header nor the query carries one, then the usual check (401 before any upgrade).</summary>
    private static void Authorized(RouteHandlerBuilder route)
    {
        route.AddEndpointFilter(async (ctx, next) =>
        {
            var request = ctx.HttpContext.Request;
            if (ApiAuth.BearerToken(request) is null && request.Headers.SecWebSocketProtocol.ToString() is { Length: > 0 } protocols)
            {
                var token = protocols.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                if (token is not null)
                {
                    request.Headers.Authorization = "Bearer " + token;
                    ctx.HttpContext.Items[ProtocolTokenKey] = token;
                }
            }
            return await next(ctx);
        });
        route.RequireAuth(AuthLevel.User, ReadScopes);
    }

    private static async Task<IResult> WebSocketAsync(HttpContext context, StreamingHub hub, StreamRenderer renderer, StreamingMetrics metrics)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            return ApiErrors.Result(400, "Expected a WebSocket upgrade (or use /api/v1/streaming/<stream> for server-sent events)");
        Subscription? initial = null;
        if (context.Request.Query["stream"].ToString() is { Length: > 0 } stream)
        {
            initial = Subscription.Parse(stream, context.Request.Query["tag"]);
            if (initial is null)
                return ApiErrors.Result(400, "Unknown stream type");
        }
        var viewer = context.UserId();
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = context.Items[ProtocolTokenKey] as string,
            KeepAliveInterval = Ping,
            KeepAliveTimeout = Ping,
        });
        var connection = new StreamConnection(viewer, context, socket.Abort);
        if (initial is not null)
            connection.Subscribe(initial);
        hub.Add(connection, socket: true);
        Task SendText(string text, CancellationToken ct) => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct);
        var sending = SendLoopAsync(connection, renderer, metrics, (d, ct) => SendText(Frame(d), ct), SendText, context.RequestAborted);
        try
        {
            await ReceiveLoopAsync(socket, connection, context.RequestAborted);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer went away, or the connection was dropped for not reading (the socket aborted).
        }
        finally
        {
            connection.Complete();
            hub.Remove(connection, socket: true);
        }
        try
        {
            await sending;
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
        return Results.Empty;
    }

    private static async Task ReceiveLoopAsync(WebSocket socket, StreamConnection connection, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxClientMessage);
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == MaxClientMessage)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, null, ct);
                        return;
                    }
                    result = await socket.ReceiveAsync(buffer.AsMemory(length, MaxClientMessage - length), ct);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                    return;
                if (result.MessageType == WebSocketMessageType.Text && Command(buffer.AsSpan(0, length), connection) is { } error)
                    connection.Enqueue(new Outgoing(null, error));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Applies <c>{"type":"subscribe"|"unsubscribe","stream":…,"tag":…}</c>; the error frame to answer, or null.</summary>
    private static string? Command(ReadOnlySpan<byte> message, StreamConnection connection)
    {
        string? type = null, stream = null, tag = null;
        try
        {
            var reader = new Utf8JsonReader(message);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return ErrorFrame("Bad message");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
                switch (name)
                {
                    case "type": type = value; break;
                    case "stream": stream = value; break;
                    case "tag": tag = value; break;
                }
            }
        }
        catch (JsonException)
        {
            return ErrorFrame("Bad message");
        }
        if (Subscription.Parse(stream, tag) is not { } subscription)
            return ErrorFrame("Unknown stream type");
        switch (type)
        {
            case "subscribe":
                connection.Subscribe(subscription);
                return null;
            case "unsubscribe":
                connection.Unsubscribe(subscription);
                return null;
            default:
                return ErrorFrame("Unknown message type");
        }
    }

    private static string ErrorFrame(string error) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["error"] = error, ["status"] = 400 }, StreamingDiagJson.Default.DictionaryStringObject);

    private static async Task SendLoopAsync(StreamConnection connection, StreamRenderer renderer, StreamingMetrics metrics,
        Func<Delivery, CancellationToken, Task> deliver, Func<string, CancellationToken, Task> raw, CancellationToken ct)
    {
        await foreach (var item in connection.Queue.ReadAllAsync(ct))
        {
            if (item.Frame is not null)
            {
                await raw(item.Frame, ct);
                continue;
            }
            var e = item.Event!;
            foreach (var d in await renderer.RenderAsync(connection, e, ct, item.Follows))
            {
                await deliver(d, ct);
                metrics.Delivery(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - e.PublishedAt);
            }
        }
    }

    /// <summary><c>{"stream":[…],"event":…,"payload":…}</c>, the payload a JSON string (docs.joinmastodon.org/methods/streaming#events).</summary>
    private static string Frame(Delivery d)
    {
        var output = new ArrayBufferWriter<byte>(d.Payload.Length + 64);
        using (var w = new Utf8JsonWriter(output))
        {
            w.WriteStartObject();
            w.WriteStartArray("stream");
            foreach (var n in d.Subscription.Names)
                w.WriteStringValue(n);
            w.WriteEndArray();
            w.WriteString("event", d.Event);
            w.WriteString("payload", d.Payload);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Server-sent events of one stream: <c>:)</c> first, <c>:thump</c> heartbeats, <c>event:</c>/<c>data:</c> per event.</summary>
    private static async Task<IResult> EventStreamAsync(HttpContext context, StreamingHub hub, StreamRenderer renderer, StreamingMetrics metrics, string stream)
    {
        if (Subscription.Parse(stream, context.Request.Query["tag"]) is not { } subscription)
            return ApiErrors.Result(400, "Unknown stream type");
        var viewer = context.UserId();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        var ct = context.RequestAborted;
        var gate = new SemaphoreSlim(1, 1);
        async Task WriteAsync(string text, CancellationToken token)
        {
            await gate.WaitAsync(token);
            try
            {
                await response.WriteAsync(text, token);
                await response.Body.FlushAsync(token);
            }
            finally
            {
                gate.Release();
            }
        }
        var connection = new StreamConnection(viewer, context, context.Abort);
        connection.Subscribe(subscription);
        hub.Add(connection, socket: false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            await WriteAsync(":)\n", ct);
            var heartbeat = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(Heartbeat);
                while (await timer.WaitForNextTickAsync(stop.Token))
                    await WriteAsync(":thump\n", stop.Token);
            }, stop.Token);
            // Mastodon's event-stream lines: the event name, then its payload on one data line (JSON has no raw newlines).
            await SendLoopAsync(connection, renderer, metrics, (d, token) => WriteAsync($"event: {d.Event}\ndata: {d.Payload}\n\n", token), WriteAsync, ct);
            await stop.CancelAsync();
            await heartbeat.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }
        finally
        {
            stop.Cancel();
            connection.Complete();
            hub.Remove(connection, socket: false);
        }
        return Results.Empty;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, double>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class StreamingDiagJson : System.Text.Json.Serialization.JsonSerializerContext;
