namespace Lenta.Server.Api;

/// <summary>
/// Mastodon's HTTP conventions that are not per endpoint: CORS for browser clients (Elk) on the API, token and
/// discovery paths, exposing <c>Link</c> and the rate-limit headers; API JSON is never cached.
/// </summary>
public static class ApiConventions
{
    private const string CorsPolicy = "mastodon";

    public static IServiceCollection AddApiConventions(this IServiceCollection services)
    {
        services.AddCors(o => o.AddPolicy(CorsPolicy, p => p.AllowAnyOrigin().AllowAnyHeader().AllowAnyMethod()
            .WithExposedHeaders("Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Request-Id")));
        return services;
    }

    public static WebApplication UseApiConventions(this WebApplication app)
    {
        app.UseWhen(c => IsCors(c.Request.Path), b => b.UseCors(CorsPolicy));
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api"))
            {
                context.Response.OnStarting(() =>
                {
                    if (!context.Response.Headers.ContainsKey("Cache-Control"))
                        context.Response.Headers.CacheControl = "no-cache, no-store, max-age=0, must-revalidate";
                    return Task.CompletedTask;
                });
            }
            await next(context);
        });
        return app;
    }

    private static bool IsCors(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/oauth/token") || path.StartsWithSegments("/oauth/revoke")
        || path.StartsWithSegments("/.well-known") || path.StartsWithSegments("/nodeinfo");
}
