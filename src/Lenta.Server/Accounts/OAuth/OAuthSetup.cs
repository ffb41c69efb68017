using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// OAuth 2 the way Mastodon clients expect it, on OpenIddict: OpenIddict validates every authorize and token
/// request (client, secret, redirect URI, grant, scopes against the app's, PKCE, single-use codes) and our
/// pass-through endpoints decide; access tokens themselves are Mastodon-style opaque tokens (<see cref="AccessTokens"/>).
/// </summary>
public static class OAuthSetup
{
    public const string SessionScheme = "lenta.session";
    public const string OutOfBand = "urn:ietf:wg:oauth:2.0:oob";

    public static IServiceCollection AddLentaOAuth(this IServiceCollection services)
    {
        services.AddDbContext<OAuthDbContext>((sp, options) => OAuthDbContext.Configure(options,
            sp.GetRequiredService<IOptions<DatabaseOptions>>().Value, sp.GetRequiredService<IOptions<LentaOptions>>().Value));
        services.AddSingleton<ServerKeys>();
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ServerKeys.ConfigureOpenIddict>();
        services.AddSingleton<IMigrationSource, OAuthMigrations>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<ITokenAuthenticator>(sp => sp.GetRequiredService<AccessTokens>());

        services.AddDataProtection().SetApplicationName("lenta");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
            o.XmlRepository = new DatabaseXmlRepository(sp.GetRequiredService<IDatabase>())));
        services.AddAntiforgery(o => o.Cookie.Name = "lenta.af");
        services.AddAuthentication().AddCookie(SessionScheme, o =>
        {
            o.Cookie.Name = "lenta.session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.ExpireTimeSpan = TimeSpan.FromDays(14);
            o.SlidingExpiration = true;
            o.LoginPath = "/oauth/authorize";
        });
        services.AddAuthorization();

        services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<OAuthDbContext>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("oauth/authorize")
                 .SetTokenEndpointUris("oauth/token");
                o.AllowAuthorizationCodeFlow().AllowClientCredentialsFlow().AllowPasswordFlow();
                o.SetAuthorizationCodeLifetime(TimeSpan.FromMinutes(10));
                // Access tokens are ours (AccessTokens); OpenIddict only makes authorization codes.
                o.DisableAuthorizationStorage();
                // Scopes are checked against each app's registered scopes by AppScopeValidator; there is no scope store.
                o.DisableScopeValidation().IgnoreScopePermissions();
                // Mastodon's metadata document is served by AppsApi in Mastodon's shape.
                o.SetConfigurationEndpointUris(Array.Empty<Uri>());
                o.AddEventHandler<ValidateAuthorizationRequestContext>(b => b.UseScopedHandler<AppScopeValidator>()
                    .SetOrder(OpenIddictServerHandlers.Authentication.ValidateClientRedirectUri.Descriptor.Order + 500));
                o.AddEventHandler<ValidateTokenRequestContext>(b => b.UseScopedHandler<AppScopeValidator>()
                    .SetOrder(OpenIddictServerHandlers.Exchange.ValidateAuthentication.Descriptor.Order + 500));
                o.UseAspNetCore()
                 .EnableAuthorizationEndpointPassthrough()
                 .EnableTokenEndpointPassthrough()
                 .DisableTransportSecurityRequirement(); // TLS ends at the proxy in front

                // Out-of-band apps (urn:ietf:wg:oauth:2.0:oob) get the code shown on a page instead of a redirect.
                o.AddEventHandler<ApplyAuthorizationResponseContext>(b => b.UseInlineHandler(context =>
                {
                    if (context.RedirectUri == OutOfBand && context.BaseUri is { } baseUri)
                    {
                        context.RedirectUri = new Uri(baseUri, "oauth/authorize/native").AbsoluteUri;
                        context.ResponseMode = "query";
                    }
                    return default;
                }).SetOrder(OpenIddictServerHandlers.Authentication.InferResponseMode.Descriptor.Order + 500)); // after the redirect URI is attached
            });
        return services;
    }

    /// <summary>
    /// masto.js sends /oauth/token as JSON or multipart; OpenIddict reads form-urlencoded only, so rewrite the body first.
    /// A form body is read here too (OpenIddict then reuses the parsed form), so a malformed one is an OAuth 400 of ours.
    /// </summary>
    public static WebApplication UseOAuthRequestNormalization(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (HttpMethods.IsPost(request.Method) && request.Path.Equals("/oauth/token", StringComparison.OrdinalIgnoreCase) && request.ContentType is { } type)
            {
                ApiParams p;
                try
                {
                    p = await ApiParams.ReadAsync(context);
                }
                catch (ApiException e)
                {
                    context.Response.StatusCode = e.Status;
                    await context.Response.WriteAsJsonAsync(new OAuthError("invalid_request", e.Error), OAuthJson.Default.OAuthError);
                    return;
                }
                if (type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
                {
                    await next(context);
                    return;
                }
                var pairs = p.ScalarPairs().Where(kv => request.Query[kv.Key].Count == 0).ToList();
                var body = System.Text.Encoding.UTF8.GetBytes(string.Join('&', pairs.Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value)}")));
                request.Body = new MemoryStream(body);
                request.ContentLength = body.Length;
                request.ContentType = "application/x-www-form-urlencoded";
                context.Features.Set<Microsoft.AspNetCore.Http.Features.IFormFeature>(null);
            }
            await next(context);
        });
        return app;
    }
}

public sealed record OAuthError(
    [property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error,
    [property: System.Text.Json.Serialization.JsonPropertyName("error_description")] string ErrorDescription);

[System.Text.Json.Serialization.JsonSerializable(typeof(OAuthError))]
internal sealed partial class OAuthJson : System.Text.Json.Serialization.JsonSerializerContext;
