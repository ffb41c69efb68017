using System.Security.Cryptography;
using System.Text.Json;
using Lenta.Server.Api;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;
using Scopes = Lenta.Server.Api.Scopes;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>App registration (docs.joinmastodon.org/methods/apps) and the RFC 8414 metadata.</summary>
public static class AppsApi
{
    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/apps", CreateAsync);
    }

    public static void MapRead(RouteGroupBuilder api, IEndpointRouteBuilder root)
    {
        api.MapGet("/v1/apps/verify_credentials", VerifyAsync).RequireAuth(AuthLevel.App);
        root.MapGet("/.well-known/oauth-authorization-server", Metadata);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, IOpenIddictApplicationManager apps, ServerKeys keys)
    {
        var p = await ApiParams.ReadAsync(context);
        var name = p.String("client_name")?.Trim();
        if (string.IsNullOrEmpty(name))
            return ApiErrors.Result(422, "Validation failed: Application name can't be blank");
        if (name.Length > 60)
            return ApiErrors.Result(422, "Validation failed: Application name is too long (maximum is 60 characters)");

        var redirects = p.Strings("redirect_uris").SelectMany(s => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToList();
        if (redirects.Count == 0)
            return ApiErrors.Result(422, "Validation failed: Redirect URI can't be blank");
        foreach (var uri in redirects)
        {
            // "/x" parses as an absolute file: URI on Unix, so a scheme must be written out.
            if (!uri.Contains(':', StringComparison.Ordinal) || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed)
                || parsed.Scheme is "javascript" or "data" or "vbscript" or "file" || parsed.Fragment.Length > 0)
                return ApiErrors.Result(422, "Validation failed: Redirect URI must be an absolute URI.");
        }

        var scopes = Scopes.Parse(p.String("scopes") ?? string.Join(' ', p.Strings("scopes")));
        if (scopes.Count == 0)
            scopes = ["read"];
        var unknown = scopes.FirstOrDefault(s => !Scopes.All.Contains(s));
        if (unknown is not null)
            return ApiErrors.Result(422, $"Validation failed: Scopes includes an unknown scope ({unknown})");

        var website = p.String("website")?.Trim();
        if (website is { Length: > 0 } && !(Uri.TryCreate(website, UriKind.Absolute, out var site) && site.Scheme is "http" or "https"))
            return ApiErrors.Result(422, "Validation failed: Website is invalid");

        var clientId = RandomToken();
        var clientSecret = RandomToken();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = clientSecret,
            ClientType = ClientTypes.Confidential,
            ConsentType = ConsentTypes.Explicit,
            DisplayName = name,
        };
        descriptor.Permissions.UnionWith([
            Permissions.Endpoints.Authorization, Permissions.Endpoints.Token,
            Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.ClientCredentials, Permissions.GrantTypes.Password,
            Permissions.ResponseTypes.Code,
        ]);
        descriptor.Permissions.UnionWith(scopes.Select(s => Permissions.Prefixes.Scope + s));
        foreach (var uri in redirects)
            descriptor.RedirectUris.Add(new Uri(uri));
        descriptor.Properties["website"] = JsonSerializer.SerializeToElement(website is { Length: > 0 } ? website : null);
        descriptor.Properties["scopes"] = JsonSerializer.SerializeToElement(string.Join(' ', scopes));
        descriptor.Properties["redirect_uris"] = JsonSerializer.SerializeToElement(string.Join('\n', redirects));

        object app;
        try
        {
            app = await apps.CreateAsync(descriptor, context.RequestAborted);
        }
        catch (OpenIddictExceptions.ValidationException e)
        {
            return ApiErrors.Result(422, "Validation failed: " + string.Join(", ", e.Results.Select(r => r.ErrorMessage)));
        }
        var id = await apps.GetIdAsync(app, context.RequestAborted) ?? "";
        return TypedResults.Json(new CredentialApplicationEntity(id, name, website is { Length: > 0 } ? website : null, scopes.ToArray(),
            string.Join('\n', redirects), redirects.ToArray(), await keys.VapidPublicKeyAsync(), clientId, clientSecret, 0), AccountsJson.Default.CredentialApplicationEntity);
    }

    private static async Task<IResult> VerifyAsync(HttpContext context, IOpenIddictApplicationManager apps, ServerKeys keys)
    {
        var caller = context.Caller();
        var app = await apps.FindByClientIdAsync(caller.ClientId!, context.RequestAborted);
        if (app is null)
            return ApiErrors.Result(401, "The access token is invalid");
        return TypedResults.Json(await PresentAsync(apps, app, keys, context.RequestAborted), AccountsJson.Default.ApplicationEntity);
    }

    public static async Task<ApplicationEntity> PresentAsync(IOpenIddictApplicationManager apps, object app, ServerKeys keys, CancellationToken ct)
    {
        var props = await apps.GetPropertiesAsync(app, ct);
        var redirects = props.TryGetValue("redirect_uris", out var r) ? r.GetString() ?? "" : "";
        var scopes = props.TryGetValue("scopes", out var s) ? s.GetString() ?? "read" : "read";
        var website = props.TryGetValue("website", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null;
        return new ApplicationEntity(await apps.GetIdAsync(app, ct) ?? "", await apps.GetDisplayNameAsync(app, ct) ?? "", website,
            Scopes.Parse(scopes).ToArray(), redirects, redirects.Split('\n', StringSplitOptions.RemoveEmptyEntries), await keys.VapidPublicKeyAsync());
    }

    private static IResult Metadata(HttpContext context, PublicUrls urls)
    {
        var b = urls.Base(context);
        return TypedResults.Json(new AuthorizationServerMetadata(
            Issuer: b + "/",
            ServiceDocumentation: "https://docs.joinmastodon.org/",
            AuthorizationEndpoint: b + "/oauth/authorize",
            TokenEndpoint: b + "/oauth/token",
            RevocationEndpoint: b + "/oauth/revoke",
            AppRegistrationEndpoint: b + "/api/v1/apps",
            ScopesSupported: Scopes.All.Order(StringComparer.Ordinal).ToArray(),
            ResponseTypesSupported: ["code"],
            ResponseModesSupported: ["query", "fragment", "form_post"],
            CodeChallengeMethodsSupported: ["S256"],
            GrantTypesSupported: ["authorization_code", "client_credentials", "password"],
            TokenEndpointAuthMethodsSupported: ["client_secret_basic", "client_secret_post"]), AccountsJson.Default.AuthorizationServerMetadata);
    }

    private static string RandomToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
