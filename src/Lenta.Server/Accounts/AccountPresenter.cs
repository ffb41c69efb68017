using System.Text.Json;
using Lenta.Server.Api;

namespace Lenta.Server.Accounts;

/// <summary>Turns account rows into Mastodon entities, with absolute URLs for the request's host.</summary>
public sealed class AccountPresenter(PublicUrls urls, IProfileImages images)
{
    public AccountEntity Present(AccountRow a, HttpContext context) => Present(a, urls.Base(context));

    public AccountEntity Present(AccountRow a, string baseUrl) => Fill(new AccountEntity(), a, baseUrl);

    public CredentialAccountEntity PresentCredential(AccountRow a, HttpContext context, long followRequestsCount = 0)
    {
        var entity = Fill(new CredentialAccountEntity(), a, urls.Base(context));
        entity.Source = new AccountSource(a.DefaultPrivacy, a.DefaultSensitive, a.DefaultLanguage, a.Note,
            StoredFields(a.Fields).Select(f => new AccountField(f.Name, f.Value, null)).ToArray(), followRequestsCount, a.HideCollections, a.Discoverable, a.Indexable);
        entity.Role = new AccountRole("-99", "", "0", "", false);
        return entity;
    }

    private T Fill<T>(T e, AccountRow a, string baseUrl) where T : AccountEntity
    {
        e.Id = MastodonFormat.Id(a.Id);
        e.Username = a.Username;
        e.Acct = a.Username;
        e.DisplayName = a.DisplayName;
        e.Locked = a.Locked;
        e.Bot = a.Bot;
        e.Discoverable = a.Discoverable;
        e.Indexable = a.Indexable;
        e.Noindex = !a.Indexable;
        e.HideCollections = a.HideCollections;
        e.CreatedAt = MastodonFormat.Midnight(a.CreatedAt);
        e.Note = HtmlText.FromPlain(a.Note);
        e.Url = $"{baseUrl}/@{a.Username}";
        e.Uri = $"{baseUrl}/users/{a.Username}";
        // Stored images are stills (a GIF keeps its first frame), so the static URL is the same one.
        e.Avatar = e.AvatarStatic = a.AvatarKey is null ? $"{baseUrl}/avatars/original/missing.png" : images.Url(a.AvatarKey, baseUrl);
        e.Header = e.HeaderStatic = a.HeaderKey is null ? $"{baseUrl}/headers/original/missing.png" : images.Url(a.HeaderKey, baseUrl);
        e.FollowersCount = a.FollowersCount;
        e.FollowingCount = a.FollowingCount;
        e.StatusesCount = a.StatusesCount;
        e.LastStatusAt = MastodonFormat.Date(a.LastStatusAt);
        e.Fields = StoredFields(a.Fields).Select(f => new AccountField(f.Name, HtmlText.Inline(f.Value), null)).ToArray();
        return e;
    }

    public static List<StoredField> StoredFields(string json) =>
        JsonSerializer.Deserialize(json, AccountsJson.Default.ListStoredField) ?? [];
}
