using System.Net.Sockets;
using System.Text;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Api;

/// <summary>
/// A burst of uploads whose text parts are far past their limit, against a real server process: its resident memory
/// stays within a small bound, because a text part is read only up to its limit and the rest of the body is discarded
/// as it streams, never held.
/// </summary>
public sealed class UploadMemoryTests(ITestOutputHelper output)
{
    private const int Uploads = 6;
    private const int PartBytes = 32 * 1024 * 1024;

    /// <summary>
    /// What the burst may add to the server's resident memory: Kestrel's request buffers (1 MiB a connection) and the
    /// collector's slack. Holding the parts would take more than the parts themselves (each a string of twice its size).
    /// </summary>
    private const long AllowedGrowth = 100L * 1024 * 1024;

    [Fact]
    public async Task Oversized_text_parts_in_a_burst_leave_resident_memory_bounded()
    {
        var data = TempFolder.Create("lenta-memory");
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Lenta__DataPath"] = data, ["Lenta__RateLimits__Enabled"] = "false" });
        try
        {
            var user = await new Mastodon(server.Http).SignUpAsync();
            Assert.Equal(422, await UploadAsync(server.Address, user.Token, 64 * 1024)); // the path warmed up
            var before = server.ResidentBytes;
            var peak = before;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, server.ResidentBytes);
                    await Task.Delay(20);
                }
            });
            var statuses = await Task.WhenAll(Enumerable.Range(0, Uploads).Select(_ => UploadAsync(server.Address, user.Token, PartBytes)));
            await sampling.CancelAsync();
            await sampler;
            Assert.All(statuses, s => Assert.Equal(422, s));
            output.WriteLine($"resident memory {before >> 20} MiB before, peak {peak >> 20} MiB during {Uploads} uploads of a {PartBytes >> 20} MiB description");
            Assert.True(peak - before < AllowedGrowth, $"resident memory grew from {before >> 20} MiB to a peak of {peak >> 20} MiB over {Uploads} uploads of a {PartBytes >> 20} MiB description");
        }
        finally
        {
            TempFolder.Delete(data);
        }
    }

    /// <summary>One upload whose description part is <paramref name="partBytes"/> long, sent whole while the answer is read; its status.</summary>
    private static async Task<int> UploadAsync(Uri server, string token, int partBytes)
    {
        var head = "--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n";
        const string Tail = "\r\n--XyZ--\r\n";
        var length = head.Length + partBytes + Tail.Length;
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        var request = $"POST /api/v2/media HTTP/1.1\r\nHost: {server.Authority}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n" +
                      $"Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {length}\r\n\r\n{head}";
        var sending = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
                var chunk = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
                for (var sent = 0; sent < partBytes; sent += chunk.Length)
                    await stream.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, partBytes - sent)));
                await stream.WriteAsync(Encoding.ASCII.GetBytes(Tail));
            }
            catch (IOException)
            {
                // The server may close once it answered; the answer is what counts.
            }
        });
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (!answer.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var n = await stream.ReadAsync(buffer);
                if (n == 0)
                    break;
                answer.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }
        catch (IOException) when (answer.Length > 0)
        {
        }
        await sending;
        var statusLine = answer.ToString().Split("\r\n")[0];
        return int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
