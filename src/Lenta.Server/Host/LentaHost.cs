using Lenta.Server.Accounts;
using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Api;
using Lenta.Server.Bookmarks;
using Lenta.Server.Conversations;
using Lenta.Server.Instance;
using Lenta.Server.Feed;
using Lenta.Server.Graph;
using Lenta.Server.Likes;
using Lenta.Server.Media;
using Lenta.Server.Notifications;
using Lenta.Server.Posts;
using Lenta.Server.Platform.Database;
using Lenta.Server.Streaming;
using Lenta.Server.Web;
using Lenta.Server.Tags;

using Lenta.Server.Platform.Hosting;

namespace Lenta.Server.Host;

/// <summary>Builds the server: the platform ports, the modules, and the routes of the configured roles.</summary>
public static class LentaHost
{
    /// <param name="configure">adjusts configuration before anything is registered</param>
    /// <param name="decorate">adjusts the registered services (tests wrap a port to observe it)</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<IServiceCollection>? decorate = null)
    {
        // Content root is the binary's folder (appsettings.json); relative paths such as Lenta__DataPath stay relative to the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        builder.AddRequestLimits();

        // A service graph that cannot be built (a missing registration, a dependency cycle) fails at start, not at first use.
        builder.Host.UseDefaultServiceProvider(o =>
        {
            o.ValidateOnBuild = true;
            o.ValidateScopes = true;
        });
        var lenta = builder.Configuration.GetSection(LentaOptions.Section);
        builder.Logging.ClearProviders();
        if (string.Equals(lenta["LogFormat"], "text", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        else
            builder.Logging.AddJsonConsole(o => { o.IncludeScopes = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });

        // Roles are needed to decide what to register, before options validation runs; a bad value is reported there.
        _ = RoleParser.TryParse(lenta["Roles"] ?? "all", out var roles, out _);
        var diagnostics = bool.TryParse(lenta["Diagnostics"], out var d) && d;

        var services = builder.Services;
        services.AddLentaPlatform(builder.Configuration);
        services.AddLentaWorkers(roles);
        services.AddLentaHealth();
        services.AddOpenApi();
        services.AddProblemDetails();
        // Binding failures throw BadHttpRequestException, which the error handler turns into a 400 naming the parameter.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddApiConventions();
        services.AddLentaRateLimits(builder.Configuration);
        services.AddOptions<InstanceOptions>().Bind(builder.Configuration.GetSection(InstanceOptions.Section));
        services.AddSingleton<PublicUrls>();
        services.AddLentaAccounts();
        services.AddLentaGraph();
        services.AddLentaPosts();
        services.AddLentaTags();
        services.AddLentaFeed(builder.Configuration);
        services.AddLentaLikes(roles);
        services.AddLentaBookmarks();
        services.AddLentaConversations();
        // After Likes: a post's delete runs the observers in this order, so its likes are gone (on PostgreSQL, after any
        // notification job holding one committed) before its notifications are deleted.
        services.AddLentaNotifications();
        services.AddLentaStreaming();
        services.AddLentaMedia(builder.Configuration, roles);
        if (diagnostics)
            services.AddLentaDiagnostics();

        decorate?.Invoke(services);
        var app = builder.Build();
        app.UseTrustedProxies(lenta["TrustedProxies"]);
        app.UseApiErrors();
        app.UseRequestChecks();
        app.UseApiConventions();
        app.UseWebSockets();
        app.UseOAuthRequestNormalization();
        app.UseLentaRateLimits();
        // OpenIddict's request handlers and the sign-in cookie serve /oauth and the consent page; the API checks bearer
        // tokens itself (ApiAuth), so API requests skip both (OpenIddict would otherwise build its context per request).
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api"), branch =>
        {
            branch.UseAuthentication();
            branch.UseAuthorization();
        });
        // The branch's builder has its own properties: mark them set here too, or WebApplication would add both again
        // at the very start of the pipeline (ahead of the OAuth body normalization and CORS).
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
        ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;

        app.MapLentaHealth();
        app.MapOpenApi();
        DefaultImages.Map(app);
        if (roles.HasFlag(ServerRoles.ReadApi))
            WebClient.Map(app);   // the page talks to the API: a worker-only process serves neither

        var api = app.MapGroup("/api").DisableAntiforgery();
        if (roles.HasFlag(ServerRoles.ReadApi))
        {
            InstanceApi.MapRead(api, app);
            AppsApi.MapRead(api, app);
            AccountsApi.MapRead(api);
            GraphApi.MapRead(api);
            PostsApi.MapRead(api);
            TagsApi.MapRead(api);
            FeedApi.MapRead(api);
            LikesApi.MapRead(api);
            BookmarksApi.MapRead(api);
            ConversationsApi.MapRead(api);
            NotificationsApi.MapRead(api);
            MediaApi.MapRead(api, app);
            CompatApi.MapRead(api);
            StreamingApi.MapRead(api);
        }
        if (roles.HasFlag(ServerRoles.WriteApi))
        {
            AppsApi.MapWrite(api);
            AccountsApi.MapWrite(api);
            GraphApi.MapWrite(api);
            PostsApi.MapWrite(api);
            TagsApi.MapWrite(api);
            LikesApi.MapWrite(api);
            BookmarksApi.MapWrite(api);
            ConversationsApi.MapWrite(api);
            NotificationsApi.MapWrite(api);
            MediaApi.MapWrite(api);
            // The OAuth endpoints write (sessions, codes, tokens): a proxy sends /oauth/* to the write pool.
            TokenEndpoint.Map(app);
            AuthorizePage.Map(app);
        }
        if (diagnostics)
        {
            app.MapLentaDiagnostics(roles);
            FeedApi.MapDiagnostics(app);
            StreamingApi.MapDiagnostics(app);
        }
        return app;
    }
}
