using System.Net;
using System.Text.RegularExpressions;

namespace Lenta.Tests.Accounts;

/// <summary>Drives the browser side of /oauth/authorize like a person: keeps cookies, fills the forms it is shown.</summary>
public sealed partial class OAuthFlow : IDisposable
{
    private readonly HttpClient _browser;

    public OAuthFlow(Uri server)
    {
        _browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseCookies = true })
        {
            BaseAddress = server,
        };
    }

    public HttpClient Browser => _browser;

    public Task<HttpResponseMessage> OpenAsync(string query) => _browser.GetAsync("oauth/authorize?" + query);

    /// <summary>Posts the form on <paramref name="page"/> with its hidden fields, plus <paramref name="fields"/>.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(HttpResponseMessage page, Dictionary<string, string> fields)
    {
        var html = await page.Content.ReadAsStringAsync();
        var form = Hidden(html);
        foreach (var (k, v) in fields)
            form[k] = v;
        return await _browser.PostAsync("oauth/authorize", new FormUrlEncodedContent(form));
    }

    /// <summary>The whole flow for one user: sign in, approve; returns the final response (a redirect).</summary>
    public async Task<HttpResponseMessage> AuthorizeAsync(string query, string email, string password)
    {
        using var login = await OpenAsync(query);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        using var consent = await SubmitAsync(login, new() { ["email"] = email, ["password"] = password });
        Assert.Equal(HttpStatusCode.OK, consent.StatusCode);
        Assert.Contains("Authorize", await consent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        return await SubmitAsync(consent, new() { ["decision"] = "approve" });
    }

    public static Dictionary<string, string> Hidden(string html)
    {
        var fields = new Dictionary<string, string>();
        foreach (Match m in HiddenInput().Matches(html))
            fields[WebUtility.HtmlDecode(m.Groups[1].Value)] = WebUtility.HtmlDecode(m.Groups[2].Value);
        return fields;
    }

    public static Dictionary<string, string> Query(Uri uri) =>
        uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenInput();

    public void Dispose() => _browser.Dispose();
}
