using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Lenta.Server.Api;

/// <summary>
/// Gives Mastodon's <c>{"error": …}</c> body to the answers Kestrel writes itself, with no middleware running: a request
/// line or headers it cannot parse or that are too long (400, 414, 431, 505). Kestrel offers no hook for those
/// bodies; it does raise its <c>Microsoft.AspNetCore.Server.Kestrel.BadRequest</c> diagnostic event before it writes
/// the answer, so each HTTP/1 connection's output passes through a <see cref="PipeWriter"/> that, once that event
/// named its connection, holds what Kestrel writes next and adds the body to a bodiless error answer. Every other byte
/// goes straight through.
/// </summary>
public sealed class RefusalBodies : IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private const string BadRequestEvent = "Microsoft.AspNetCore.Server.Kestrel.BadRequest";

    private readonly ConcurrentDictionary<string, RefusalWriter> _connections = new(StringComparer.Ordinal);
    private readonly IDisposable _subscription;

    public RefusalBodies(DiagnosticListener diagnostics) =>
        _subscription = diagnostics.Subscribe(this, name => name == BadRequestEvent);

    /// <summary>The connection middleware: wraps the connection's output for as long as it is open.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var transport = connection.Transport;
        var writer = new RefusalWriter(transport.Output);
        connection.Transport = new Duplex(transport.Input, writer);
        _connections[connection.ConnectionId] = writer;
        try
        {
            await next(connection);
        }
        finally
        {
            _connections.TryRemove(connection.ConnectionId, out _);
            connection.Transport = transport;
        }
    };

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key != BadRequestEvent || value.Value is not IFeatureCollection features)
            return;
        // HTTP/2 and HTTP/3 refuse a stream with frames, not with a response to rewrite.
        if (features.Get<IHttpRequestFeature>()?.Protocol is { } protocol && (HttpProtocol.IsHttp2(protocol) || HttpProtocol.IsHttp3(protocol)))
            return;
        if (features.Get<IHttpConnectionFeature>()?.ConnectionId is { } id && _connections.TryGetValue(id, out var writer))
            writer.Expect(features.Get<IBadRequestExceptionFeature>()?.Error?.Message);
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void Dispose() => _subscription.Dispose();

    /// <summary>
    /// <paramref name="response"/> with a JSON error body when it is exactly a bodiless HTTP/1 error head (status 400 or
    /// more, <c>Content-Length: 0</c>, nothing after the blank line); any other bytes come back unchanged.
    /// </summary>
    public static byte[] WithBody(ReadOnlySpan<byte> response, string? error)
    {
        var end = response.IndexOf("\r\n\r\n"u8);
        if (end < 0 || end + 4 != response.Length || !response.StartsWith("HTTP/1."u8))
            return response.ToArray();
        var lines = Encoding.Latin1.GetString(response[..end]).Split("\r\n");
        var status = lines[0].Split(' ');
        if (status.Length < 2 || !int.TryParse(status[1], System.Globalization.CultureInfo.InvariantCulture, out var code) || code < 400
            || !lines.Skip(1).Any(l => l.Equals("Content-Length: 0", StringComparison.OrdinalIgnoreCase)))
            return response.ToArray();
        var text = string.IsNullOrWhiteSpace(error) ? ReasonPhrases.GetReasonPhrase(code) : error;
        var body = JsonSerializer.SerializeToUtf8Bytes(new ApiError(text), ApiJson.Default.ApiError);
        var head = new StringBuilder(lines[0]).Append("\r\n");
        foreach (var line in lines.Skip(1).Where(l => !l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)))
            head.Append(line).Append("\r\n");
        head.Append("Content-Type: application/json; charset=utf-8\r\nContent-Length: ").Append(body.Length).Append("\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    /// <summary>Passes writes through; after <see cref="Expect"/>, holds them until the next flush and rewrites them there.</summary>
    private sealed class RefusalWriter(PipeWriter inner) : PipeWriter
    {
        private volatile string? _expected;
        private volatile bool _refused;
        private ArrayBufferWriter<byte>? _held;
        private bool _leasedFromHeld;

        public void Expect(string? error)
        {
            _expected = error;
            _refused = true;
        }

        /// <summary>Holding starts at the next lease, never between a lease from the inner writer and its advance.</summary>
        private ArrayBufferWriter<byte>? Holding()
        {
            if (_held is null && _refused)
                _held = new ArrayBufferWriter<byte>(512);
            return _held;
        }

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            var held = Holding();
            _leasedFromHeld = held is not null;
            return held is null ? inner.GetMemory(sizeHint) : held.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            var held = Holding();
            _leasedFromHeld = held is not null;
            return held is null ? inner.GetSpan(sizeHint) : held.GetSpan(sizeHint);
        }

        public override void Advance(int bytes)
        {
            if (_leasedFromHeld)
                _held!.Advance(bytes);
            else
                inner.Advance(bytes);
        }

        /// <summary>Writes what was held, with its body added, and goes back to passing writes through.</summary>
        private void Release()
        {
            if (_held is not { } held)
                return;
            inner.Write(WithBody(held.WrittenSpan, _expected));
            _held = null;
            _leasedFromHeld = false;
            _refused = false;
            _expected = null;
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Release();
            return inner.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            Release();
            inner.Complete(exception);
        }

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            Release();
            return inner.CompleteAsync(exception);
        }

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes + (_held?.WrittenCount ?? 0);
    }
}
