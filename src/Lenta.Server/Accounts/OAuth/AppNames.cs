using System.Text.Json;
using System.Text.Json.Serialization;
using Lenta.Server.Platform.Cache;
using OpenIddict.Abstractions;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// The name and website of the app behind a client id, for a status's <c>application</c>. Apps cannot be renamed
/// through the API, so a lookup is cached (<c>app:{client id}</c>, an hour) in the shared cache; only a miss opens a
/// scope for OpenIddict's application manager (an EF Core context), which compose would otherwise pay for on every post.
/// </summary>
public sealed class AppNames(IServiceScopeFactory scopes, ICache cache)
{
    private static readonly TimeSpan KeepFor = TimeSpan.FromHours(1);

    public sealed record AppName(string? Name, string? Website);

    private static string Key(string clientId) => "app:" + clientId;

    public async Task<AppName?> FindAsync(string clientId, CancellationToken ct)
    {
        if ((await cache.GetManyDecodedAsync([Key(clientId)], b => JsonSerializer.Deserialize(b, AppNamesJson.Default.AppName)!, ct))[0] is { } known)
            return known;
        AppName? found = null;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var apps = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            if (await apps.FindByClientIdAsync(clientId, ct) is { } app)
            {
                var props = await apps.GetPropertiesAsync(app, ct);
                found = new AppName(await apps.GetDisplayNameAsync(app, ct),
                    props.TryGetValue("website", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null);
            }
        }
        // An app that does not exist is not remembered: it may be registered on another node a moment later.
        if (found is not null)
            await cache.AddDecodedAsync(Key(clientId), JsonSerializer.SerializeToUtf8Bytes(found, AppNamesJson.Default.AppName), found, KeepFor, ct);
        return found;
    }
}

[JsonSerializable(typeof(AppNames.AppName))]
internal sealed partial class AppNamesJson : JsonSerializerContext;
