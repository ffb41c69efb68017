using Lenta.Server.Platform.Hosting;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Api;

/// <summary>Absolute URLs for links: <c>Lenta__PublicUrl</c> when set (behind a proxy or CDN), else the request's own scheme and host.</summary>
public sealed class PublicUrls(IOptions<LentaOptions> options)
{
    private readonly string? _fixed = string.IsNullOrEmpty(options.Value.PublicUrl) ? null : options.Value.PublicUrl.TrimEnd('/');

    public string Base(HttpContext context) => _fixed ?? $"{context.Request.Scheme}://{context.Request.Host}";

    public string Host(HttpContext context) => _fixed is null ? context.Request.Host.Value ?? "localhost" : new Uri(_fixed).Authority;
}
