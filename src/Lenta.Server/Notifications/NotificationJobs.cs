namespace Lenta.Server.Notifications;

/// <summary>Payload of <see cref="NoticeHandler"/>: tell <c>Recipient</c> that <c>From</c> did <c>Type</c> (to post <c>StatusId</c>, 0 for none) at <c>At</c> (Unix ms).</summary>
public sealed record NoticeJob(string Type, long Recipient, long From, long StatusId, long At);

/// <summary>Payload of <see cref="PostNoticesHandler"/>: a new post, whose mentioned accounts and notify-followers are told.</summary>
public sealed record PostNoticesJob(long StatusId, long AuthorId, long At);

/// <summary>Payload of <see cref="LikesNoticeHandler"/>: likes a fold took up, oldest first.</summary>
public sealed record LikesNoticeJob(List<LikeNotice> Likes);

/// <summary><c>Liker</c> liked <c>StatusId</c> at <c>At</c> (Unix ms).</summary>
public sealed record LikeNotice(long Liker, long StatusId, long At);
