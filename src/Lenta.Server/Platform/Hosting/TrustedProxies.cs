using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;

namespace Lenta.Server.Platform.Hosting;

/// <summary>
/// <c>Lenta__TrustedProxies</c>: behind nginx (or a load balancer), the connection's address is the proxy's. ASP.NET
/// Core's forwarded-headers middleware replaces it with the client's from <c>X-Forwarded-For</c>, and the scheme with
/// <c>X-Forwarded-Proto</c>, only for a request whose connection comes from a listed proxy, walking the chain of
/// listed proxies from the right (a CDN in front of nginx). Nothing is trusted when the list is empty: a client could
/// otherwise pick any address to dodge the rate limits.
/// </summary>
public static class TrustedProxies
{
    public static bool TryParse(string? text, out (List<IPAddress> Addresses, List<IPNetwork> Networks) proxies, out string? bad)
    {
        proxies = ([], []);
        bad = null;
        foreach (var item in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(item, out var network))
                proxies.Networks.Add(network);
            else if (IPAddress.TryParse(item, out var address))
                proxies.Addresses.Add(address);
            else
            {
                bad = item;
                return false;
            }
        }
        return true;
    }

    /// <summary>First in the pipeline, so that logs, rate limits and links all see the client's address and scheme.</summary>
    public static WebApplication UseTrustedProxies(this WebApplication app, string? setting)
    {
        if (!TryParse(setting, out var proxies, out _) || proxies.Addresses.Count + proxies.Networks.Count == 0)
            return app;
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = null, // every listed proxy in the chain, not only the last hop
        };
        options.KnownProxies.Clear(); // the default trusts loopback; only what is configured is trusted here
        options.KnownIPNetworks.Clear();
        foreach (var address in proxies.Addresses)
            options.KnownProxies.Add(address);
        foreach (var network in proxies.Networks)
            options.KnownIPNetworks.Add(network);
        app.UseForwardedHeaders(options);
        return app;
    }
}
