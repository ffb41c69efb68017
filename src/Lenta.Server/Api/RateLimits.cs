using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Lenta.Server.Api;

/// <summary><c>Lenta__RateLimits__*</c>: request limits like Mastodon's defaults.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Lenta:RateLimits";

    /// <summary>Off for benchmarks and tests that need volume.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests per window per token (or per IP without a token).</summary>
    public int Requests { get; set; } = 300;

    public int WindowSeconds { get; set; } = 300;

    /// <summary>Sign-ups per window per IP.</summary>
    public int SignUps { get; set; } = 5;

    public int SignUpWindowSeconds { get; set; } = 1800;
}

/// <summary>
/// ASP.NET Core's rate limiter with fixed windows: one global limiter partitioned by token (IP when anonymous),
/// and a sign-up policy per IP. Every API response carries <c>X-RateLimit-Limit/Remaining/Reset</c>; a refused
/// request gets 429 <c>{"error":"Too many requests"}</c> (docs.joinmastodon.org/api/rate-limits).
/// </summary>
public static class RateLimits
{
    public const string SignUpPolicy = "signup";

    public static IServiceCollection AddLentaRateLimits(this IServiceCollection services, IConfiguration config)
    {
        var options = config.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddSingleton(options);
        var window = TimeSpan.FromSeconds(Math.Max(1, options.WindowSeconds));
        var signUpWindow = TimeSpan.FromSeconds(Math.Max(1, options.SignUpWindowSeconds));
        var general = new Windows(window, options.Requests);
        var signUps = new Windows(signUpWindow, options.SignUps);
        services.AddSingleton(general);
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = general.Limiter;
            o.AddPolicy(SignUpPolicy, ctx => signUps.Partition(Ip(ctx)));
            o.OnRejected = async (ctx, ct) =>
            {
                var windows = ctx.HttpContext.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == SignUpPolicy ? signUps : general;
                var key = windows == signUps ? Ip(ctx.HttpContext) : Key(ctx.HttpContext);
                Headers(ctx.HttpContext.Response, windows, key, 0);
                ctx.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                await ctx.HttpContext.Response.WriteAsJsonAsync(new ApiError("Too many requests"), ApiJson.Default.ApiError, contentType: null, ct);
            };
        });
        return services;
    }

    public static WebApplication UseLentaRateLimits(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<RateLimitOptions>().Enabled)
            return app;
        var general = app.Services.GetRequiredService<Windows>();
        app.Use(async (context, next) =>
        {
            if (IsApi(context.Request))
            {
                var key = Key(context);
                context.Response.OnStarting(() =>
                {
                    if (context.Response.StatusCode != StatusCodes.Status429TooManyRequests)
                        Headers(context.Response, general, key, general.Limiter.GetStatistics(context)?.CurrentAvailablePermits ?? 0);
                    return Task.CompletedTask;
                });
            }
            await next(context);
        });
        app.UseRateLimiter();
        return app;
    }

    private static void Headers(HttpResponse response, Windows windows, string key, long remaining)
    {
        response.Headers["X-RateLimit-Limit"] = windows.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Remaining"] = Math.Max(0, remaining).ToString(CultureInfo.InvariantCulture);
        response.Headers["X-RateLimit-Reset"] = windows.ResetOf(key).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>The token's hash when there is one (each token its own budget), else the client's IP.</summary>
    private static string Key(HttpContext context) =>
        ApiAuth.BearerToken(context.Request) is { } token
            ? "t:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)).AsSpan(0, 16))
            : Ip(context);

    private static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/oauth");

    private static string Ip(HttpContext context) => "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    /// <summary>Fixed windows per key, remembering when each key's window started so the reset time can be told.</summary>
    public sealed class Windows
    {
        private readonly ConcurrentDictionary<string, DateTimeOffset> _starts = new(StringComparer.Ordinal);
        private readonly TimeSpan _window;
        private readonly Lazy<PartitionedRateLimiter<HttpContext>> _limiter;

        public Windows(TimeSpan window, int limit)
        {
            _window = window;
            Limit = limit;
            _limiter = new(() => PartitionedRateLimiter.Create<HttpContext, string>(ctx => IsApi(ctx.Request) ? Partition(Key(ctx)) : RateLimitPartition.GetNoLimiter("")));
        }

        public int Limit { get; }

        /// <summary>
        /// Partitioned by token (IP when anonymous); made on first use, because each one runs a 100 ms timer for its
        /// whole life and the sign-up windows only ever hand their partitions to a policy.
        /// </summary>
        public PartitionedRateLimiter<HttpContext> Limiter => _limiter.Value;

        public RateLimitPartition<string> Partition(string key) =>
            RateLimitPartition.GetFixedWindowLimiter(key, k =>
            {
                _starts[k] = DateTimeOffset.UtcNow;
                return new FixedWindowRateLimiterOptions { PermitLimit = Limit, Window = _window, QueueLimit = 0, AutoReplenishment = true };
            });

        public DateTimeOffset ResetOf(string key)
        {
            var now = DateTimeOffset.UtcNow;
            var start = _starts.GetValueOrDefault(key, now);
            var elapsed = Math.Max(0, (now - start).Ticks);
            var windows = elapsed / _window.Ticks + 1;
            return start + TimeSpan.FromTicks(windows * _window.Ticks);
        }
    }
}
