namespace Lenta.Server.Feed;

/// <summary>
/// The payload of <see cref="FanOutHandler"/> and <see cref="RetractHandler"/>: a post and its author, and for a retract the
/// tags of a public post (the post is gone when it runs; its tags' followers had it pushed). Absent in jobs queued before.
/// </summary>
public sealed record FanOutJob(long StatusId, long AuthorId, string[]? Tags = null);

/// <summary>The payload of <see cref="MergeHandler"/> and <see cref="UnmergeHandler"/>: who followed (or unfollowed) whom.</summary>
public sealed record FollowJob(long Follower, long Target);
