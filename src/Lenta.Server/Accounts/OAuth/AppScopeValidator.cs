using System.Text.Json;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using Scopes = Lenta.Server.Api.Scopes;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// Requested scopes must be among the app's registered scopes, else <c>invalid_scope</c> (Doorkeeper's answer;
/// OpenIddict's own permission check would say <c>invalid_request</c>). Authorization requests are checked here;
/// token requests too, except the code exchange, whose scopes were fixed when the code was made.
/// </summary>
public sealed class AppScopeValidator(IOpenIddictApplicationManager apps) :
    IOpenIddictServerHandler<ValidateAuthorizationRequestContext>, IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        if (await InvalidScopeAsync(context.ClientId, context.Request.GetScopes()) is { } error)
            context.Reject(Errors.InvalidScope, error);
    }

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (context.Request.IsAuthorizationCodeGrantType())
            return;
        if (await InvalidScopeAsync(context.ClientId, context.Request.GetScopes()) is { } error)
            context.Reject(Errors.InvalidScope, error);
    }

    private async Task<string?> InvalidScopeAsync(string? clientId, IEnumerable<string> requested)
    {
        if (clientId is null || await apps.FindByClientIdAsync(clientId) is not { } app)
            return null; // client validation answers this
        var props = await apps.GetPropertiesAsync(app);
        var allowed = Scopes.Parse(props.TryGetValue("scopes", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : "read").ToHashSet(StringComparer.Ordinal);
        var bad = requested.FirstOrDefault(r => !allowed.Contains(r));
        return bad is null ? null : $"The requested scope is invalid, unknown, or malformed ({bad}).";
    }
}
