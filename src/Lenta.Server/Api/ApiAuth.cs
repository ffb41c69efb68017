namespace Lenta.Server.Api;

/// <summary>Who is calling: the token's app, its scopes, and its user (null for an app-only token or an anonymous call).</summary>
public sealed record Caller(long? AccountId, string? ClientId, IReadOnlySet<string> Scopes, IReadOnlyList<string> Granted)
{
    public static readonly Caller Anonymous = new(null, null, new HashSet<string>(), []);

    public bool IsAnonymous => ClientId is null;
}

/// <summary>Turns a bearer token into a <see cref="Caller"/>; null when the token is unknown, revoked or malformed.</summary>
public interface ITokenAuthenticator
{
    ValueTask<Caller?> AuthenticateAsync(string token, CancellationToken ct);
}

public enum AuthLevel
{
    /// <summary>No token needed; a token, if sent, must be valid and identifies the caller.</summary>
    Optional,

    /// <summary>Any valid token, app-only included.</summary>
    App,

    /// <summary>A token of a signed-in user; an app-only token gets 422 (Mastodon).</summary>
    User,
}

/// <summary>
/// Mastodon's authorization rules as an endpoint filter: 401 without a valid token where one is needed,
/// 403 when the token holds none of the endpoint's scopes, 422 when a user is needed and the token is app-only.
/// </summary>
public static class ApiAuth
{
    private const string CallerKey = "lenta.caller";

    public static Caller Caller(this HttpContext context) =>
        context.Items.TryGetValue(CallerKey, out var c) && c is Caller caller ? caller : Api.Caller.Anonymous;

    public static long UserId(this HttpContext context) =>
        context.Caller().AccountId ?? throw new ApiException(422, "This method requires an authenticated user");

    public static TBuilder RequireAuth<TBuilder>(this TBuilder builder, AuthLevel level, params string[] scopes) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var token = BearerToken(http.Request);
            if (token is null)
            {
                if (level != AuthLevel.Optional)
                    return ApiErrors.Result(401, "The access token is invalid");
                return await next(ctx);
            }
            var caller = await http.RequestServices.GetRequiredService<ITokenAuthenticator>().AuthenticateAsync(token, http.RequestAborted);
            if (caller is null)
                return ApiErrors.Result(401, "The access token is invalid");
            if (scopes.Length > 0 && !scopes.Any(caller.Scopes.Contains))
                return ApiErrors.Result(403, "This action is outside the authorized scopes");
            if (level == AuthLevel.User && caller.AccountId is null)
                return ApiErrors.Result(422, "This method requires an authenticated user");
            http.Items[CallerKey] = caller;
            return await next(ctx);
        });
        return builder;
    }

    /// <summary><c>Authorization: Bearer x</c>, or Doorkeeper's <c>access_token</c> query parameter.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var t = header["Bearer ".Length..].Trim();
            return t.Length > 0 ? t : null;
        }
        var q = request.Query["access_token"].ToString();
        return q.Length > 0 ? q : null;
    }
}

/// <summary>OAuth scopes (docs.joinmastodon.org/api/oauth-scopes).</summary>
public static class Scopes
{
    public static readonly string[] TopLevel = ["read", "write", "follow", "push", "profile", "admin:read", "admin:write"];

    private static readonly string[] ReadGranular = ["accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications", "search", "statuses"];

    private static readonly string[] WriteGranular = ["accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists", "media", "mutes", "notifications", "reports", "statuses"];

    public static readonly IReadOnlySet<string> All = TopLevel
        .Concat(ReadGranular.Select(s => "read:" + s))
        .Concat(WriteGranular.Select(s => "write:" + s))
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Splits a space- (or <c>+</c>-) separated scope string; order kept, duplicates dropped.</summary>
    public static IReadOnlyList<string> Parse(string? text) =>
        (text ?? "").Split([' ', '+'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// What a token holding <paramref name="granted"/> may do: each scope itself, and for <c>read</c>/<c>write</c>
    /// every granular scope below it; <c>follow</c> covers read and write of follows, blocks and mutes.
    /// </summary>
    public static IReadOnlySet<string> Expand(IEnumerable<string> granted)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in granted)
        {
            set.Add(s);
            switch (s)
            {
                case "read":
                    set.UnionWith(ReadGranular.Select(g => "read:" + g));
                    break;
                case "write":
                    set.UnionWith(WriteGranular.Select(g => "write:" + g));
                    break;
                case "follow":
                    set.UnionWith(["read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"]);
                    break;
            }
        }
        return set;
    }
}
