using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Hosting;
using Microsoft.AspNetCore.WebUtilities;

namespace Lenta.Server.Api;

/// <summary>Mastodon's error body: <c>{"error": "…"}</c> (docs.joinmastodon.org/entities/Error).</summary>
public sealed record ApiError([property: JsonPropertyName("error")] string Error);

/// <summary>A 422 with per-field <c>details</c>, as Mastodon's sign-up answers.</summary>
public sealed record ApiValidationError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("details")] Dictionary<string, ApiErrorDetail[]> Details);

public sealed record ApiErrorDetail(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("description")] string Description);

[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(ApiValidationError))]
internal sealed partial class ApiJson : JsonSerializerContext;

public static class ApiErrors
{
    /// <summary>How long a client is asked to wait after a 503 for the database: a restart or failover takes seconds.</summary>
    private const string DatabaseRetryAfterSeconds = "5";

    public static IResult Result(int status, string error) => TypedResults.Json(new ApiError(error), ApiJson.Default.ApiError, statusCode: status);

    /// <summary>
    /// Every failure answers JSON. Unhandled exceptions are logged with the request's correlation id and
    /// answered 500 with that id only, never internals; bodiless error statuses (unknown route, wrong method)
    /// get an <c>error</c> text too.
    /// </summary>
    public static WebApplication UseApiErrors(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Request-Id"] = context.TraceIdentifier;
            await next(context);
        });
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            SuppressDiagnosticsCallback = _ => true,
            ExceptionHandler = async context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                if (error is ApiException api)
                {
                    context.Response.StatusCode = api.Status;
                    context.Response.Headers["X-Request-Id"] = context.TraceIdentifier;
                    if (api.Details is Dictionary<string, ApiErrorDetail[]> details)
                        await context.Response.WriteAsJsonAsync(new ApiValidationError(api.Error, details), ApiJson.Default.ApiValidationError);
                    else
                        await context.Response.WriteAsJsonAsync(new ApiError(api.Error), ApiJson.Default.ApiError);
                    return;
                }
                var (status, text) = error switch
                {
                    BadHttpRequestException bad => (bad.StatusCode, bad.Message),
                    // The form and multipart readers' word for a malformed body, wherever a body is read (OpenIddict, antiforgery).
                    InvalidDataException bad => (StatusCodes.Status400BadRequest, $"The request body is malformed ({bad.Message})"),
                    // A client that hangs up mid-body fails the read with an IOException (a reset) rather than a cancellation.
                    OperationCanceledException or IOException when context.RequestAborted.IsCancellationRequested => (499, "Client closed the request"),
                    // PostgreSQL away (restarting, failing over, out of connections): a temporary refusal the client retries,
                    // never a 500; the pool reconnects by itself once it is back.
                    _ when error is not null && DbErrors.IsUnavailable(error) => (StatusCodes.Status503ServiceUnavailable, "The database is unavailable, try again shortly"),
                    // Redis away where a cache call is not answered from the database instead (the cache's own calls are):
                    // the same temporary refusal.
                    _ when error is not null && RedisCacheRepairs.IsUnavailable(error) => (StatusCodes.Status503ServiceUnavailable, "The cache is unavailable, try again shortly"),
                    _ => (StatusCodes.Status500InternalServerError, $"Internal server error (request {context.TraceIdentifier})"),
                };
                if (status == StatusCodes.Status500InternalServerError)
                {
                    context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lenta.Api")
                        .LogError(error, "Unhandled exception on {Method} {Path} (request {RequestId})", context.Request.Method, context.Request.Path, context.TraceIdentifier);
                }
                if (status == StatusCodes.Status503ServiceUnavailable)
                {
                    var log = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lenta.Api");
                    if (DbErrors.IsUnavailable(error!))
                        log.LogWarning("Database unavailable on {Method} {Path} (request {RequestId}): {Reason}", context.Request.Method, context.Request.Path, context.TraceIdentifier, error!.Message);
                    else // with the stack: a Redis failure that a cache call did not absorb
                        log.LogWarning(error, "Redis unavailable on {Method} {Path} (request {RequestId})", context.Request.Method, context.Request.Path, context.TraceIdentifier);
                    context.Response.Headers.RetryAfter = DatabaseRetryAfterSeconds;
                    DbErrors.ForgetPooledConnections();   // a dead connection met outside IDatabase (the OAuth store's)
                }
                context.Response.StatusCode = status;
                context.Response.Headers["X-Request-Id"] = context.TraceIdentifier; // the handler starts from a cleared response
                await context.Response.WriteAsJsonAsync(new ApiError(text), ApiJson.Default.ApiError);
            },
        });
        app.UseStatusCodePages(async status =>
        {
            var response = status.HttpContext.Response;
            var text = response.StatusCode switch
            {
                StatusCodes.Status404NotFound => "Record not found",
                StatusCodes.Status405MethodNotAllowed => "Method not allowed",
                StatusCodes.Status401Unauthorized => "The access token is invalid",
                var code => ReasonPhrases.GetReasonPhrase(code) is { Length: > 0 } phrase ? phrase : "Error",
            };
            await response.WriteAsJsonAsync(new ApiError(text), ApiJson.Default.ApiError);
        });
        return app;
    }
}
