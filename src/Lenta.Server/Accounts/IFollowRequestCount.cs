namespace Lenta.Server.Accounts;

/// <summary>
/// Pending follow requests to an account, shown in its credential account's <c>source.follow_requests_count</c>
/// (docs.joinmastodon.org/entities/Account/#CredentialAccount). Follow requests belong to the Graph module, which
/// sits above Accounts and implements this.
/// </summary>
public interface IFollowRequestCount
{
    Task<long> FollowRequestCountAsync(long accountId, CancellationToken ct);
}
