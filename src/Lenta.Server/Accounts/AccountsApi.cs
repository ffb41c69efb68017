using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Api;

namespace Lenta.Server.Accounts;

/// <summary>docs.joinmastodon.org/methods/accounts: sign-up, credentials, profiles.</summary>
public static class AccountsApi
{
    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/accounts", SignUpAsync).RequireAuth(AuthLevel.App, "write", "write:accounts").RequireRateLimiting(RateLimits.SignUpPolicy);
        api.MapPatch("/v1/accounts/update_credentials", UpdateAsync).RequireAuth(AuthLevel.User, "write", "write:accounts")
            .WithMetadata(new ImageBodyLimit());
        // docs.joinmastodon.org/methods/profile (Mastodon 4.2): back to the default image.
        api.MapDelete("/v1/profile/avatar", (HttpContext c, AccountService a, AccountPresenter p, IFollowRequestCount f) => RemoveImageAsync(c, a, p, f, ProfileImage.Avatar))
            .RequireAuth(AuthLevel.User, "write", "write:accounts");
        api.MapDelete("/v1/profile/header", (HttpContext c, AccountService a, AccountPresenter p, IFollowRequestCount f) => RemoveImageAsync(c, a, p, f, ProfileImage.Header))
            .RequireAuth(AuthLevel.User, "write", "write:accounts");
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/accounts/verify_credentials", VerifyAsync).RequireAuth(AuthLevel.User, "profile", "read", "read:accounts");
        api.MapGet("/v1/accounts/lookup", LookupAsync).RequireAuth(AuthLevel.Optional, "read", "read:accounts");
        api.MapGet("/v1/accounts/{id}", GetAsync).RequireAuth(AuthLevel.Optional, "read", "read:accounts");
    }

    private static async Task<IResult> SignUpAsync(HttpContext context, AccountService accounts, AccessTokens tokens, OpenIddict.Abstractions.IOpenIddictApplicationManager apps, ServerKeys keys)
    {
        var p = await ApiParams.ReadAsync(context);
        var caller = context.Caller();
        var account = await accounts.SignUpAsync(new SignUp(p.String("username"), p.String("email"), p.String("password"), p.Bool("agreement"), p.String("locale")),
            caller.ClientId, context.RequestAborted);
        // The new user's token carries the app's registered scopes (Mastodon's AppSignUpService), not just the app token's.
        var app = await apps.FindByClientIdAsync(caller.ClientId!, context.RequestAborted);
        var scopes = app is null ? caller.Granted : (await AppsApi.PresentAsync(apps, app, keys, context.RequestAborted)).Scopes;
        var issued = await tokens.IssueAsync(caller.ClientId!, account.Id, scopes, context.RequestAborted);
        return TypedResults.Json(new TokenEntity(issued.Token, "Bearer", string.Join(' ', issued.Scopes), issued.CreatedAtSeconds), AccountsJson.Default.TokenEntity);
    }

    private static async Task<IResult> VerifyAsync(HttpContext context, AccountService accounts, AccountPresenter presenter, IFollowRequestCount followRequests)
    {
        var account = await accounts.GetAsync(context.UserId(), context.RequestAborted);
        return account is null
            ? ApiErrors.Result(401, "The access token is invalid")
            : TypedResults.Json(presenter.PresentCredential(account, context, await followRequests.FollowRequestCountAsync(account.Id, context.RequestAborted)), AccountsJson.Default.CredentialAccountEntity);
    }

    /// <summary>update_credentials sets its own body limit: room for an avatar and a header at their limit, plus the text fields.</summary>
    private sealed class ImageBodyLimit : Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => null;
    }

    private static async Task<IResult> UpdateAsync(HttpContext context, AccountService accounts, AccountPresenter presenter, IFollowRequestCount followRequests, IProfileImages images)
    {
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = context.Request.HasFormContentType ? 2 * images.SizeLimit + RequestLimits.BodyBytes : RequestLimits.BodyBytes;
        var p = await ApiParams.ReadAsync(context);
        var account = await accounts.UpdateAsync(context.UserId(), p, context.RequestAborted);
        return TypedResults.Json(presenter.PresentCredential(account, context, await followRequests.FollowRequestCountAsync(account.Id, context.RequestAborted)), AccountsJson.Default.CredentialAccountEntity);
    }

    private static async Task<IResult> RemoveImageAsync(HttpContext context, AccountService accounts, AccountPresenter presenter, IFollowRequestCount followRequests, ProfileImage kind)
    {
        var account = await accounts.RemoveImageAsync(context.UserId(), kind, context.RequestAborted);
        return TypedResults.Json(presenter.PresentCredential(account, context, await followRequests.FollowRequestCountAsync(account.Id, context.RequestAborted)), AccountsJson.Default.CredentialAccountEntity);
    }

    private static async Task<IResult> GetAsync(HttpContext context, string id, AccountService accounts, AccountPresenter presenter)
    {
        var account = MastodonFormat.ParseId(id) is { } n ? await accounts.GetAsync(n, context.RequestAborted) : null;
        return account is null
            ? ApiErrors.Result(404, "Record not found")
            : TypedResults.Json(presenter.Present(account, context), AccountsJson.Default.AccountEntity);
    }

    private static async Task<IResult> LookupAsync(HttpContext context, AccountService accounts, AccountPresenter presenter, PublicUrls urls)
    {
        var acct = context.Request.Query["acct"].ToString().Trim().TrimStart('@');
        if (acct.Length == 0)
            return ApiErrors.Result(400, "Missing required parameter: acct");
        var at = acct.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            // user@domain: only our own domain is local; there is no federation.
            if (!string.Equals(acct[(at + 1)..], urls.Host(context), StringComparison.OrdinalIgnoreCase))
                return ApiErrors.Result(404, "Record not found");
            acct = acct[..at];
        }
        var account = await accounts.Store.FindByUsernameAsync(acct, context.RequestAborted);
        return account is null
            ? ApiErrors.Result(404, "Record not found")
            : TypedResults.Json(presenter.Present(account, context), AccountsJson.Default.AccountEntity);
    }
}
