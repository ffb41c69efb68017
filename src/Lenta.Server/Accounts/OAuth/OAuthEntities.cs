namespace Lenta.Server.Accounts.OAuth;

/// <summary>docs.joinmastodon.org/entities/Token: <c>created_at</c> is Unix seconds.</summary>
public sealed record TokenEntity(string AccessToken, string TokenType, string Scope, long CreatedAt);

/// <summary>docs.joinmastodon.org/entities/Application.</summary>
public record ApplicationEntity(
    string Id,
    string Name,
    string? Website,
    string[] Scopes,
    string RedirectUri,
    string[] RedirectUris,
    string VapidKey);

/// <summary>The app as its creator sees it once, with its secret (docs.joinmastodon.org/entities/Application/#CredentialApplication).</summary>
public sealed record CredentialApplicationEntity(
    string Id,
    string Name,
    string? Website,
    string[] Scopes,
    string RedirectUri,
    string[] RedirectUris,
    string VapidKey,
    string ClientId,
    string ClientSecret,
    long ClientSecretExpiresAt);

/// <summary>RFC 8414 metadata at /.well-known/oauth-authorization-server (Mastodon 4.3).</summary>
public sealed record AuthorizationServerMetadata(
    string Issuer,
    string ServiceDocumentation,
    string AuthorizationEndpoint,
    string TokenEndpoint,
    string RevocationEndpoint,
    string AppRegistrationEndpoint,
    string[] ScopesSupported,
    string[] ResponseTypesSupported,
    string[] ResponseModesSupported,
    string[] CodeChallengeMethodsSupported,
    string[] GrantTypesSupported,
    string[] TokenEndpointAuthMethodsSupported);
