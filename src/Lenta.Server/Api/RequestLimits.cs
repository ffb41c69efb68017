using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Lenta.Server.Api;

/// <summary>
/// The bounds one request is held to, each checked while the request is read, so no request costs more than they allow
/// whatever it carries. Kestrel's own limits stay at their defaults and are part of the same set: a request line of
/// 8 KiB (414 past it), 32 KiB of headers in at most 100 fields (431), and request bodies arriving at 240 bytes/s at
/// least after a 5 s grace (408).
/// </summary>
public static class RequestLimits
{
    /// <summary>
    /// Largest request body outside the media uploads (which stream up to the media limits): a status is the largest
    /// thing a Mastodon client sends, and a status of a hundred thousand characters fits, JSON-escaped at six bytes a
    /// character for most of them. Past it: 413.
    /// </summary>
    public const int BodyBytes = 1024 * 1024;

    /// <summary>
    /// Deepest nesting of a JSON body or a Rails-style key (<c>a[b][c]</c>): Mastodon's deepest parameter is three
    /// levels (<c>fields_attributes[0][name]</c>), so this only refuses what no client sends.
    /// </summary>
    public const int Depth = 32;

    /// <summary>Most values one JSON body may hold: the form reader's own default (ASP.NET Core's FormOptions.ValueCountLimit), for JSON too.</summary>
    public const int Values = 1024;

    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RefusalBodies>();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<RefusalBodies>((o, refusals) =>
        {
            o.Limits.MaxRequestBodySize = BodyBytes;
            o.ConfigureEndpointDefaults(listen => listen.Use(refusals.Wrap));
        });
        return builder;
    }

    /// <summary>
    /// Checks every request before anything reads it. A <c>Host</c> that cannot be the authority of a URL is a 400 (RFC 9112
    /// §3.2: a server answers 400 to a Host field with an invalid value): links are built from it when
    /// <c>Lenta__PublicUrl</c> is unset, and OAuth's issuer always is; health checks answer whatever the Host, as load
    /// balancers probe by address. A query holding U+0000 (<c>%00</c>) is a 400 too, as no text can store it.
    /// </summary>
    public static WebApplication UseRequestChecks(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var error = !IsValidHost(context.Request.Host) && !context.Request.Path.StartsWithSegments("/health")
                ? "Invalid Host header: it must be a host name or address with an optional port"
                : context.Request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) == true
                    ? $"The query string is not valid: {JsonBody.NulText}"
                    : null;
            if (error is not null)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsJsonAsync(new ApiError(error), ApiJson.Default.ApiError);
                return;
            }
            await next(context);
        });
        return app;
    }

    public static bool IsValidHost(HostString host) =>
        host.HasValue && Uri.TryCreate($"http://{host.Value}/", UriKind.Absolute, out var uri)
        && uri.UserInfo.Length == 0 && uri.PathAndQuery == "/" && uri.Fragment.Length == 0;

    /// <summary>The 413 for a body past <see cref="BodyBytes"/>.</summary>
    public static ApiException TooLarge() => new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {BodyBytes} bytes");
}
