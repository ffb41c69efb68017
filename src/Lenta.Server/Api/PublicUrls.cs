using Lenta.Server.Platform.Hosting;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Api;

/// <summary>Absolute URLs for links: <c>Lenta__PublicUrl</c> when set (behind a proxy or CDN), else the request's own scheme and host.</summary>
public sealed class PublicUrls(IOptions<LentaOptions> options)
{
    private readonly string? _fixed = string.IsNullOrEmpty(options.Value.PublicUrl) ? null : options.Value.PublicUrl.TrimEnd('/');

    private volatile Known? _last;

    /// <summary>
    /// The configured public URL, or the request's scheme and host. The same string instance while requests keep naming
    /// the same host, so renderings kept per base URL (<see cref="Platform.Cache.RenderSlot"/>) match by reference.
    /// </summary>
    public string Base(HttpContext context)
    {
        if (_fixed is not null)
            return _fixed;
        var scheme = context.Request.Scheme;
        var host = context.Request.Host.Value ?? "";
        if (_last is { } last && last.Scheme == scheme && last.Host == host)
            return last.Base;
        var known = new Known(scheme, host, $"{scheme}://{context.Request.Host}");
        _last = known;
        return known.Base;
    }

    private sealed record Known(string Scheme, string Host, string Base);

    public string Host(HttpContext context) => _fixed is null ? context.Request.Host.Value ?? "localhost" : new Uri(_fixed).Authority;
}
