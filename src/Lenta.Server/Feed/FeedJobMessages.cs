namespace Lenta.Server.Feed;

/// <summary>The payload of <see cref="FanOutHandler"/> and <see cref="RetractHandler"/>: a post and its author.</summary>
public sealed record FanOutJob(long StatusId, long AuthorId);

/// <summary>The payload of <see cref="MergeHandler"/> and <see cref="UnmergeHandler"/>: who followed (or unfollowed) whom.</summary>
public sealed record FollowJob(long Follower, long Target);
