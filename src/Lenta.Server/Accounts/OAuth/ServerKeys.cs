using System.Security.Cryptography;
using Dapper;
using Lenta.Server.Platform.Database;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// The server's keys live in the database (<c>server_keys</c>), made once by whichever node needs them first,
/// so authorization codes and cookies made on one node are readable on every node and after restarts.
/// </summary>
public sealed class ServerKeys(IDatabase db)
{
    private readonly Lazy<Task<Dictionary<string, string>>> _keys = new(() => LoadAsync(db));

    public const string SigningKey = "oauth_signing_rsa";
    public const string EncryptionKey = "oauth_encryption_aes256";
    public const string VapidKey = "vapid_p256";

    public async Task<string> GetAsync(string name) => (await _keys.Value)[name];

    private static async Task<Dictionary<string, string>> LoadAsync(IDatabase db)
    {
        var fresh = new Dictionary<string, Func<string>>
        {
            [SigningKey] = () => { using var rsa = RSA.Create(2048); return Convert.ToBase64String(rsa.ExportPkcs8PrivateKey()); },
            [EncryptionKey] = () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            [VapidKey] = () => { using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256); return Convert.ToBase64String(ec.ExportPkcs8PrivateKey()); },
        };
        // Insert-if-absent then read back: when two nodes race, both end up with the first one's keys.
        await db.WriteAsync(async w =>
        {
            foreach (var (name, make) in fresh)
            {
                await w.ExecuteAsync("INSERT INTO server_keys (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING",
                    new { name, value = make(), now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
            }
        });
        return (await db.ReadAsync(c => c.QueryAsync<(string Name, string Value)>("SELECT name, value FROM server_keys")))
            .ToDictionary(r => r.Name, r => r.Value);
    }

    /// <summary>The Web Push public key clients read as <c>vapid_key</c>: the uncompressed P-256 point, base64url.</summary>
    public async Task<string> VapidPublicKeyAsync()
    {
        using var ec = ECDsa.Create();
        ec.ImportPkcs8PrivateKey(Convert.FromBase64String(await GetAsync(VapidKey)), out _);
        var p = ec.ExportParameters(false).Q;
        var point = new byte[65];
        point[0] = 4;
        p.X!.CopyTo(point, 1);
        p.Y!.CopyTo(point, 33);
        return Base64UrlEncoder.Encode(point);
    }

    /// <summary>Hands the keys to OpenIddict when its options are first built (after start-up migrated the database).</summary>
    public sealed class ConfigureOpenIddict(ServerKeys keys) : IConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options)
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(keys.GetAsync(SigningKey).GetAwaiter().GetResult()), out _);
            var signing = new RsaSecurityKey(rsa) { KeyId = "lenta-signing" };
            options.SigningCredentials.Add(new SigningCredentials(signing, SecurityAlgorithms.RsaSha256));
            var aes = new SymmetricSecurityKey(Convert.FromBase64String(keys.GetAsync(EncryptionKey).GetAwaiter().GetResult())) { KeyId = "lenta-encryption" };
            options.EncryptionCredentials.Add(new EncryptingCredentials(aes, SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
        }
    }
}
