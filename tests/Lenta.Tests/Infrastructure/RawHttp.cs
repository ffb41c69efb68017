using System.Net.Sockets;
using System.Text;

namespace Lenta.Tests.Infrastructure;

/// <summary>One HTTP/1.1 response as it came off the wire.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// HTTP/1.1 over a plain socket, for requests HttpClient refuses to send (a NUL in the path, an odd Host header,
/// a 200 KB request line) and for reading exactly what the server answered.
/// </summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> as is and reads until the server closes the connection.</summary>
    public static async Task<byte[]> ExchangeAsync(Uri server, byte[] request, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, cts.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before it read everything (a refused request line); read what it said.
        }
        using var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer, cts.Token);
        }
        catch (IOException) when (answer.Length > 0)
        {
            // A reset after the answer (the server closed with unread request bytes) still leaves the answer.
        }
        return answer.ToArray();
    }

    /// <summary>
    /// Sends the first <paramref name="sent"/> bytes of <paramref name="request"/> while reading, and returns the first
    /// complete response: it proves the server answered before it had the rest (a refusal on a size limit).
    /// </summary>
    public static async Task<RawResponse> SendPartAsync(Uri server, byte[] request, int sent, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = client.GetStream();
        var sending = Task.Run(async () =>
        {
            try
            {
                for (var at = 0; at < sent; at += 16384)
                    await stream.WriteAsync(request.AsMemory(at, Math.Min(16384, sent - at)), cts.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The server answered and closed before it read everything: what counts is the answer.
            }
        });
        var answer = new MemoryStream();
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                    break;
                answer.Write(buffer, 0, n);
                var wire = answer.ToArray();
                var responses = ParseAll(wire);
                if (responses.Count > 0 && (wire.AsSpan().EndsWith("\r\n0\r\n\r\n"u8)
                    || (responses[0].Headers.TryGetValue("Content-Length", out var cl) && responses[0].Body.Length >= int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture))))
                    break;
            }
        }
        catch (IOException) when (answer.Length > 0)
        {
        }
        await cts.CancelAsync();
        await sending;
        return Parse(answer.ToArray());
    }

    /// <summary>Sends one request (with <c>Connection: close</c> added) and parses the single response.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, string method, string target, IEnumerable<(string Name, string Value)> headers, byte[]? body = null)
    {
        var head = new StringBuilder($"{method} {target} HTTP/1.1\r\n");
        foreach (var (name, value) in headers)
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        if (body is not null)
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        head.Append("Connection: close\r\n\r\n");
        var bytes = Encoding.Latin1.GetBytes(head.ToString()).Concat(body ?? []).ToArray();
        return Parse(await ExchangeAsync(server, bytes));
    }

    /// <summary>Parses the first response in <paramref name="wire"/>; its body by Content-Length, else up to the end.</summary>
    public static RawResponse Parse(ReadOnlySpan<byte> wire) => ParseAll(wire.ToArray()).FirstOrDefault()
        ?? throw new InvalidOperationException($"No HTTP response in {wire.Length} bytes: '{Encoding.Latin1.GetString(wire)}'");

    /// <summary>Every response in <paramref name="wire"/>, in order (for pipelined requests on one connection).</summary>
    public static List<RawResponse> ParseAll(byte[] wire)
    {
        var responses = new List<RawResponse>();
        var at = 0;
        while (at < wire.Length)
        {
            var end = wire.AsSpan(at).IndexOf("\r\n\r\n"u8);
            if (end < 0)
                break;
            var lines = Encoding.Latin1.GetString(wire, at, end).Split("\r\n");
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                headers[line[..colon]] = line[(colon + 1)..].Trim();
            }
            var bodyStart = at + end + 4;
            if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                var (body, next) = Dechunk(wire, bodyStart);
                responses.Add(new RawResponse(status, headers, body));
                at = next;
                continue;
            }
            var length = headers.TryGetValue("Content-Length", out var cl) ? int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : wire.Length - bodyStart;
            length = Math.Min(length, wire.Length - bodyStart);
            responses.Add(new RawResponse(status, headers, wire.AsSpan(bodyStart, length).ToArray()));
            at = bodyStart + length;
        }
        return responses;
    }

    private static (byte[] Body, int Next) Dechunk(byte[] wire, int at)
    {
        var body = new MemoryStream();
        while (at < wire.Length)
        {
            var lineEnd = wire.AsSpan(at).IndexOf("\r\n"u8);
            var size = Convert.ToInt32(Encoding.Latin1.GetString(wire, at, lineEnd).Split(';')[0], 16);
            at += lineEnd + 2;
            if (size == 0)
                return (body.ToArray(), Math.Min(wire.Length, at + 2));
            body.Write(wire, at, Math.Min(size, wire.Length - at));
            at += size + 2;
        }
        return (body.ToArray(), wire.Length);
    }
}
