using System.Security.Cryptography;
using System.Text;
using Lenta.Server.Platform.Cache;

namespace Lenta.Server.Accounts;

/// <summary>
/// Failed sign-ins (password grant, the sign-in page) are counted per account e-mail and per IP in the cache; past
/// the limit within the window, further attempts are refused before the password is even checked.
/// </summary>
public sealed class SignInThrottle(ICache cache)
{
    public const int MaxPerAccount = 10;
    public const int MaxPerIp = 50;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    public async Task<bool> IsBlockedAsync(string email, string ip, CancellationToken ct) =>
        (await cache.GetCounterAsync(AccountKey(email), ct) ?? 0) >= MaxPerAccount
        || (await cache.GetCounterAsync(IpKey(ip), ct) ?? 0) >= MaxPerIp;

    public async Task RecordFailureAsync(string email, string ip, CancellationToken ct)
    {
        await cache.IncrementAsync(AccountKey(email), 1, Window, ct);
        await cache.IncrementAsync(IpKey(ip), 1, Window, ct);
    }

    private static string AccountKey(string email) =>
        "signin:acct:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())))[..32];

    private static string IpKey(string ip) => "signin:ip:" + ip;
}
