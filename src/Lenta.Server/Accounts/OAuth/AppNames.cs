using System.Collections.Concurrent;
using OpenIddict.Abstractions;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// The name and website of the app behind a client id, for a status's <c>application</c>. Apps cannot be renamed
/// through the API, so a lookup is kept for a few minutes per node; only a miss opens a scope for OpenIddict's
/// application manager (an EF Core context), which compose would otherwise pay for on every post.
/// </summary>
public sealed class AppNames(IServiceScopeFactory scopes, TimeProvider time)
{
    private static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, (AppName? Name, DateTimeOffset At)> _known = new(StringComparer.Ordinal);

    public sealed record AppName(string? Name, string? Website);

    public async Task<AppName?> FindAsync(string clientId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_known.TryGetValue(clientId, out var known) && now - known.At < KeepFor)
            return known.Name;
        AppName? found = null;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var apps = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            if (await apps.FindByClientIdAsync(clientId, ct) is { } app)
            {
                var props = await apps.GetPropertiesAsync(app, ct);
                found = new AppName(await apps.GetDisplayNameAsync(app, ct),
                    props.TryGetValue("website", out var w) && w.ValueKind == System.Text.Json.JsonValueKind.String ? w.GetString() : null);
            }
        }
        if (_known.Count > 10_000)
            _known.Clear();
        _known[clientId] = (found, now);
        return found;
    }
}
