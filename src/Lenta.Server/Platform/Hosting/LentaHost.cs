using Lenta.Server.Api;

namespace Lenta.Server.Platform.Hosting;

/// <summary>Builds the server: the platform ports, the modules, and the routes of the configured roles.</summary>
public static class LentaHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);

        var lenta = builder.Configuration.GetSection(LentaOptions.Section);
        builder.Logging.ClearProviders();
        if (string.Equals(lenta["LogFormat"], "text", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        else
            builder.Logging.AddJsonConsole(o => { o.IncludeScopes = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });

        // Roles are needed to decide what to register, before options validation runs; a bad value is reported there.
        _ = RoleParser.TryParse(lenta["Roles"] ?? "all", out var roles, out _);
        var diagnostics = bool.TryParse(lenta["Diagnostics"], out var d) && d;

        builder.Services.AddLentaPlatform(builder.Configuration);
        builder.Services.AddLentaWorkers(roles);
        builder.Services.AddLentaHealth();
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails();
        // Binding failures throw BadHttpRequestException, which the error handler turns into a 400 naming the parameter.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        if (diagnostics)
            builder.Services.AddLentaDiagnostics();

        var app = builder.Build();
        app.UseApiErrors();
        app.MapLentaHealth();
        app.MapOpenApi();
        if (diagnostics)
            app.MapLentaDiagnostics(roles);
        return app;
    }
}
