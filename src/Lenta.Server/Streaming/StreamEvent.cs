using System.Text.Json.Serialization;

namespace Lenta.Server.Streaming;

/// <summary>
/// What the bus carries for the streaming API: the cause, not its rendering (each socket renders it for its viewer).
/// A post's facts travel with it so a delete can be routed after the post is gone.
/// </summary>
/// <param name="Kind"><see cref="Update"/>, <see cref="StatusUpdate"/> (an edit), <see cref="Delete"/>, <see cref="Notification"/> or <see cref="Conversation"/></param>
/// <param name="PublishedAt">Unix milliseconds when the cause committed (the delivery lag is measured from it)</param>
/// <param name="ReblogOfAccountId">for a boost, the original's author (a viewer hiding them gets no boost of theirs)</param>
public sealed record StreamEvent(
    string Kind,
    long StatusId,
    long AuthorId,
    int Visibility,
    long? InReplyToAccountId,
    long[] Mentions,
    string[] Tags,
    long Recipient,
    long NotificationId,
    long PublishedAt,
    long? ReblogOfAccountId = null,
    long ConversationId = 0)
{
    public const string Update = "update";
    public const string StatusUpdate = "status.update";
    public const string Delete = "delete";
    public const string Notification = "notification";
    public const string Conversation = "conversation";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StreamEvent))]
internal sealed partial class StreamingJson : JsonSerializerContext;
