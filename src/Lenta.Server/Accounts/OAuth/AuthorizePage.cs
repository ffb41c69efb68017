using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// <c>/oauth/authorize</c>: the browser page of the authorization code flow. OpenIddict has already checked the
/// app, the redirect URI, the scopes and PKCE; this page signs the person in (e-mail and password, a session
/// cookie) and asks them to authorize the app, then hands OpenIddict the grant, which redirects with the code.
/// Every form repeats the original request's parameters, so OpenIddict validates them again on each POST.
/// </summary>
public static class AuthorizePage
{
    public static void Map(IEndpointRouteBuilder root)
    {
        root.MapMethods("/oauth/authorize", [HttpMethods.Get, HttpMethods.Post], HandleAsync).DisableAntiforgery();
        root.MapGet("/oauth/authorize/native", Native);
    }

    private static async Task<IResult> HandleAsync(HttpContext context, IAntiforgery antiforgery, IOpenIddictApplicationManager apps, AccountService accounts, SignInThrottle throttle)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("OpenIddict did not handle /oauth/authorize.");
        var app = await apps.FindByClientIdAsync(request.ClientId!, context.RequestAborted);
        var appName = app is null ? "an application" : await apps.GetDisplayNameAsync(app, context.RequestAborted) ?? "an application";
        var scopes = request.GetScopes().ToList();
        if (scopes.Count == 0)
            scopes = ["read"];

        var session = await context.AuthenticateAsync(OAuthSetup.SessionScheme);
        var signedIn = session.Succeeded && session.Principal?.FindFirst(Claims.Subject)?.Value is not null;
        var parameters = request.GetParameters()
            .Where(p => p.Key is not ("email" or "password" or "decision" or "force_login" or "__RequestVerificationToken"))
            .Select(p => (p.Key, Value: p.Value.ToString() ?? ""))
            .ToList();

        if (HttpMethods.IsPost(context.Request.Method))
        {
            try
            {
                await antiforgery.ValidateRequestAsync(context);
            }
            catch (AntiforgeryValidationException)
            {
                return Page(context, antiforgery, "Sign in", LoginForm(parameters, appName, "The form expired; please sign in again."), 400);
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            // PostgreSQL's text cannot hold U+0000: such a form names no account, and must not reach a query.
            if (form.Any(f => f.Value.ToString().Contains('\0', StringComparison.Ordinal)))
                return Page(context, antiforgery, "Sign in", LoginForm(parameters, appName, "Invalid e-mail address or password."), 400);
            if (form.ContainsKey("email"))
            {
                var email = form["email"].ToString();
                var ip = context.Connection.RemoteIpAddress?.ToString() ?? "";
                if (await throttle.IsBlockedAsync(email, ip, context.RequestAborted))
                    return Page(context, antiforgery, "Sign in", LoginForm(parameters, appName, "Too many failed sign-ins. Try again later."), 429);
                var accountId = await accounts.CheckPasswordAsync(email, form["password"].ToString(), context.RequestAborted);
                if (accountId is null)
                {
                    await throttle.RecordFailureAsync(email, ip, context.RequestAborted);
                    return Page(context, antiforgery, "Sign in", LoginForm(parameters, appName, "Invalid e-mail address or password."), 401);
                }
                var identity = new ClaimsIdentity([new Claim(Claims.Subject, accountId.Value.ToString(CultureInfo.InvariantCulture))], OAuthSetup.SessionScheme);
                await context.SignInAsync(OAuthSetup.SessionScheme, new ClaimsPrincipal(identity));
                var account = await accounts.GetAsync(accountId.Value, context.RequestAborted);
                return Page(context, antiforgery, "Authorize", ConsentForm(parameters, appName, scopes, account?.Username ?? ""), 200, newSession: true);
            }

            if (form["decision"] == "approve" && signedIn)
            {
                var subject = session.Principal!.FindFirst(Claims.Subject)!.Value;
                var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
                identity.SetClaim(Claims.Subject, subject);
                identity.SetScopes(scopes);
                identity.SetDestinations(_ => [Destinations.AccessToken]);
                return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            }

            if (form["decision"] == "deny")
            {
                return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The resource owner or authorization server denied the request.",
                }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
        }

        var forceLogin = string.Equals(request.GetParameter("force_login")?.ToString(), "true", StringComparison.OrdinalIgnoreCase);
        if (!signedIn || (forceLogin && HttpMethods.IsGet(context.Request.Method)))
            return Page(context, antiforgery, "Sign in", LoginForm(parameters, appName, null), 200);

        var me = long.TryParse(session.Principal!.FindFirst(Claims.Subject)!.Value, out var id) ? await accounts.GetAsync(id, context.RequestAborted) : null;
        if (me is null)
        {
            await context.SignOutAsync(OAuthSetup.SessionScheme);
            return Page(context, antiforgery, "Sign in", LoginForm(parameters, appName, null), 200);
        }
        return Page(context, antiforgery, "Authorize", ConsentForm(parameters, appName, scopes, me.Username), 200);
    }

    private static IResult Native(string? code) =>
        Html("Authorization code", code is null
            ? "<p>No authorization code was given.</p>"
            : $"<p>Copy this authorization code and paste it into the application:</p><p><input id=\"code\" readonly value=\"{E(code)}\" size=\"50\"></p>", 200);

    private static string Hidden(List<(string Key, string Value)> parameters) =>
        string.Concat(parameters.Select(p => $"<input type=\"hidden\" name=\"{E(p.Key)}\" value=\"{E(p.Value)}\">"));

    private static string LoginForm(List<(string Key, string Value)> parameters, string appName, string? error) =>
        $"""
        <p><strong>{E(appName)}</strong> wants to use your Lenta account. Sign in first.</p>
        {(error is null ? "" : $"<p class=\"error\" role=\"alert\">{E(error)}</p>")}
        <form method="post" action="/oauth/authorize">
          {Hidden(parameters)}@@antiforgery@@
          <label>E-mail address <input type="email" name="email" autocomplete="username" required></label>
          <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
          <button type="submit">Sign in</button>
        </form>
        """;

    private static string ConsentForm(List<(string Key, string Value)> parameters, string appName, List<string> scopes, string username) =>
        $"""
        <p>Signed in as <strong>@{E(username)}</strong>.</p>
        <p><strong>{E(appName)}</strong> asks for these permissions:</p>
        <ul class="scopes">{string.Concat(scopes.Select(s => $"<li><code>{E(s)}</code></li>"))}</ul>
        <form method="post" action="/oauth/authorize">
          {Hidden(parameters)}@@antiforgery@@
          <button type="submit" name="decision" value="approve">Authorize</button>
          <button type="submit" name="decision" value="deny">Deny</button>
        </form>
        """;

    private static IResult Page(HttpContext context, IAntiforgery antiforgery, string title, string body, int status, bool newSession = false)
    {
        // A new session cookie changes the user the antiforgery token must be bound to, so the form gets a fresh token then.
        if (newSession)
            context.User = new ClaimsPrincipal(new ClaimsIdentity());
        var tokens = antiforgery.GetAndStoreTokens(context);
        var field = $"<input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken ?? "")}\">";
        return Html(title, body.Replace("@@antiforgery@@", field, StringComparison.Ordinal), status);
    }

    private static IResult Html(string title, string body, int status)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
        html.Append(CultureInfo.InvariantCulture, $"<title>{E(title)} · Lenta</title>");
        html.Append("<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}label{display:block;margin:.8rem 0}input[type=email],input[type=password]{display:block;width:100%;padding:.5rem;margin-top:.3rem;box-sizing:border-box}button{padding:.5rem 1rem;margin:.5rem .5rem 0 0}.error{color:#b00020}</style>");
        html.Append(CultureInfo.InvariantCulture, $"</head><body><h1>{E(title)}</h1>{body}</body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
