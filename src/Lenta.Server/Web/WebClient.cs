using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Lenta.Server.Web;

/// <summary>
/// Lenta's own web client (built from web/ by Vite into the server's wwwroot folder): hashed assets under /assets/
/// with a year-long immutable cache, and index.html with no-cache for "/" and every client route. Paths that belong
/// to the server (API, OAuth, health, discovery) are never answered with the page: they keep their own 404.
/// </summary>
public static class WebClient
{
    private static readonly string[] ServerPrefixes =
        ["/api", "/oauth", "/system", "/health", "/.well-known", "/nodeinfo", "/avatars", "/headers", "/media", "/openapi", "/_diag", "/assets"];

    public static void Map(WebApplication app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        var index = Path.Combine(root, "index.html");
        var assets = Path.Combine(root, "assets");
        var types = new FileExtensionContentTypeProvider();
        // An endpoint rather than the static-file middleware: the fallback below is an endpoint too, and would win.
        app.MapMethods("/assets/{file}", [HttpMethods.Get, HttpMethods.Head], (HttpContext c, string file) =>
        {
            var path = Path.Combine(assets, file);
            if (file.Contains('/') || file.Contains('\\') || file.StartsWith('.') || !File.Exists(path) || !types.TryGetContentType(file, out var type))
                return Results.StatusCode(StatusCodes.Status404NotFound);
            // Every name carries a hash of its content (Vite), so a name never serves other bytes.
            c.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            c.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
            return Results.File(path, type, enableRangeProcessing: true);
        });
        var icon = Path.Combine(root, "favicon.ico");
        // Asked for by browsers on every page, the sign-in page included: a day's cache (its name has no hash).
        app.MapMethods("/favicon.ico", [HttpMethods.Get, HttpMethods.Head], (HttpContext c) =>
        {
            if (!File.Exists(icon))
                return Results.StatusCode(StatusCodes.Status404NotFound);
            c.Response.Headers.CacheControl = "public, max-age=86400";
            return Results.File(icon, "image/x-icon");
        });
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], (HttpContext c) => Page(c, index));
        // Client routes (/@alice, /statuses/1, ...) get the page too, but only where no endpoint answers (so a 405
        // stays a 405) and never under the server's own prefixes or for a file name.
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (context.GetEndpoint() is null && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                && !ServerPrefixes.Any(p => path.StartsWithSegments(p)) && !Path.HasExtension(path.Value) && File.Exists(index))
            {
                await Page(context, index).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
    }

    private static IResult Page(HttpContext context, string index)
    {
        if (!File.Exists(index))
            return Results.StatusCode(StatusCodes.Status404NotFound);
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        return Results.File(index, "text/html; charset=utf-8");
    }
}
