using System.Text;
using Lenta.Server.Api;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// <c>POST /oauth/token</c> after OpenIddict has validated the request (client authentication, grant type, code,
/// redirect URI, PKCE, scopes within the app's), and <c>POST /oauth/revoke</c> (RFC 7009 for our tokens).
/// </summary>
public static class TokenEndpoint
{
    public static void Map(IEndpointRouteBuilder root)
    {
        root.MapPost("/oauth/token", TokenAsync).DisableAntiforgery();
        root.MapPost("/oauth/revoke", RevokeAsync).DisableAntiforgery();
    }

    private static async Task<IResult> TokenAsync(HttpContext context, AccessTokens tokens, AccountService accounts, SignInThrottle throttle, IOpenIddictTokenManager codes)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("OpenIddict did not handle /oauth/token.");
        var clientId = request.ClientId!;
        AccessTokens.Issued issued;

        if (request.IsAuthorizationCodeGrantType())
        {
            var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var principal = result.Principal;
            if (principal?.GetClaim(Claims.Subject) is not { } subject || !long.TryParse(subject, out var accountId))
                return Reject(Errors.InvalidGrant, "The authorization code is invalid.");
            // Pass-through answers without OpenIddict's sign-in, so the code is marked used here (single use).
            if (principal.GetTokenId() is { } codeId && await codes.FindByIdAsync(codeId, context.RequestAborted) is { } code
                && !await codes.TryRedeemAsync(code, context.RequestAborted))
                return Reject(Errors.InvalidGrant, "The authorization code has already been used.");
            if (await accounts.GetAsync(accountId, context.RequestAborted) is null)
                return Reject(Errors.InvalidGrant, "The account no longer exists.");
            issued = await tokens.IssueAsync(clientId, accountId, principal.GetScopes().ToList(), context.RequestAborted);
        }
        else if (request.IsClientCredentialsGrantType())
        {
            issued = await tokens.IssueAsync(clientId, null, ScopesOf(request), context.RequestAborted);
        }
        else if (request.IsPasswordGrantType())
        {
            var ip = context.Connection.RemoteIpAddress?.ToString() ?? "";
            var email = request.Username ?? "";
            if (await throttle.IsBlockedAsync(email, ip, context.RequestAborted))
                return Reject(Errors.InvalidGrant, "Too many failed sign-ins; try again later.");
            var accountId = await accounts.CheckPasswordAsync(email, request.Password ?? "", context.RequestAborted);
            if (accountId is null)
            {
                await throttle.RecordFailureAsync(email, ip, context.RequestAborted);
                return Reject(Errors.InvalidGrant, "Invalid e-mail address or password.");
            }
            issued = await tokens.IssueAsync(clientId, accountId, ScopesOf(request), context.RequestAborted);
        }
        else
        {
            return Reject(Errors.UnsupportedGrantType, "The grant type is not supported.");
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return TypedResults.Json(new TokenEntity(issued.Token, "Bearer", string.Join(' ', issued.Scopes), issued.CreatedAtSeconds), AccountsJson.Default.TokenEntity);
    }

    private static List<string> ScopesOf(OpenIddictRequest request)
    {
        var scopes = request.GetScopes().ToList();
        return scopes.Count == 0 ? ["read"] : scopes;
    }

    private static IResult Reject(string error, string description) =>
        Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>RFC 7009 with Mastodon's answers: 200 <c>{}</c> for a revoked or unknown token, 403 for another client's.</summary>
    private static async Task<IResult> RevokeAsync(HttpContext context, AccessTokens tokens, IOpenIddictApplicationManager apps)
    {
        var p = await ApiParams.ReadAsync(context);
        var (clientId, secret) = ClientCredentials(context.Request, p);
        var token = p.String("token");
        if (string.IsNullOrEmpty(token))
            return OAuthResult(400, Errors.InvalidRequest, "The mandatory 'token' parameter is missing.");
        var app = clientId is null ? null : await apps.FindByClientIdAsync(clientId, context.RequestAborted);
        if (app is null || secret is null || !await apps.ValidateClientSecretAsync(app, secret, context.RequestAborted))
            return OAuthResult(401, Errors.InvalidClient, "Client authentication failed.");
        var revoked = await tokens.RevokeAsync(token, clientId!, context.RequestAborted);
        if (revoked == false)
            return OAuthResult(403, Errors.UnauthorizedClient, "You are not authorized to revoke this token");
        return Results.Text("{}", "application/json");
    }

    private static (string? ClientId, string? Secret) ClientCredentials(HttpRequest request, ApiParams p)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                    return (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
            }
            catch (FormatException)
            {
            }
        }
        return (p.String("client_id"), p.String("client_secret"));
    }

    private static IResult OAuthResult(int status, string error, string description) =>
        TypedResults.Json(new OAuthError(error, description), OAuthJson.Default.OAuthError, statusCode: status);
}
