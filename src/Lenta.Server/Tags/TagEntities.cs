using System.Text.Json.Serialization;
using Lenta.Server.Accounts;
using Lenta.Server.Posts;

namespace Lenta.Server.Tags;

/// <summary>docs.joinmastodon.org/entities/Tag/#history: one day's use, every value a string as in Mastodon.</summary>
public sealed record TagHistoryEntity(string Day, string Uses, string Accounts);

/// <summary>
/// docs.joinmastodon.org/entities/Tag: <c>id</c> is empty for a tag nobody used or followed yet (Mastodon serializes an
/// unsaved tag so); <c>following</c> and <c>featuring</c> only with a user's token.
/// </summary>
public sealed class TagEntity
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string Url { get; init; } = "";
    public TagHistoryEntity[] History { get; init; } = [];

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Following { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Featuring { get; init; }
}

/// <summary>docs.joinmastodon.org/entities/Search.</summary>
public sealed record SearchResults(List<AccountEntity> Accounts, List<StatusEntity> Statuses, List<TagEntity> Hashtags);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TagEntity))]
[JsonSerializable(typeof(List<TagEntity>))]
[JsonSerializable(typeof(SearchResults))]
public sealed partial class TagsJson : JsonSerializerContext;
