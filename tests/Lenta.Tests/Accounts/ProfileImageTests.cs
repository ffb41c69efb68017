using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Accounts;

/// <summary>
/// docs.joinmastodon.org/methods/accounts#update_credentials (avatar, header) and /methods/profile: uploads are cropped
/// to 400×400 and 1500×500, served from /system, replaced and removed with their old objects gone.
/// </summary>
public abstract class ProfileImageTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private static byte[] Jpeg(int width, int height)
    {
        using var image = NetVips.Image.Black(width, height, bands: 3) + new double[] { 200, 80, 40 };
        using var cast = image.Cast(NetVips.Enums.BandFormat.Uchar);
        return cast.JpegsaveBuffer(q: 85);
    }

    private Task<HttpResponseMessage> UpdateAsync(Mastodon.User user, params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent { { new StringContent("With a face"), "display_name" } };
        foreach (var (name, bytes) in files)
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            form.Add(file, name, $"{name}.jpg");
        }
        return Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, form);
    }

    private async Task<(int Width, int Height)> ServedSizeAsync(string url)
    {
        using var image = NetVips.Image.NewFromBuffer(await Client.Http.GetByteArrayAsync(new Uri(url)));
        return (image.Width, image.Height);
    }

    /// <summary>Whether the object is still stored: asked of the origin, as an edge cache in front may hold a deleted one until evicted.</summary>
    private async Task<HttpStatusCode> StatusOfAsync(string url)
    {
        using var response = await fixture.Server.GetFromOriginAsync(new Uri(url));
        return response.StatusCode;
    }

    [Fact]
    public async Task Avatar_and_header_are_cropped_served_and_shown_everywhere()
    {
        var user = await Client.SignUpAsync();
        using var response = await UpdateAsync(user, ("avatar", Jpeg(900, 600)), ("header", Jpeg(800, 800)));
        var me = await Mastodon.Ok(response);
        Assert.Equal("With a face", me.GetProperty("display_name").GetString());
        var avatar = me.GetProperty("avatar").GetString()!;
        var header = me.GetProperty("header").GetString()!;
        Assert.Contains("/system/accounts/avatars/", avatar, StringComparison.Ordinal);
        Assert.Contains("/system/accounts/headers/", header, StringComparison.Ordinal);
        Assert.Equal(avatar, me.GetProperty("avatar_static").GetString());
        Assert.Equal(header, me.GetProperty("header_static").GetString());
        Assert.Equal((400, 400), await ServedSizeAsync(avatar));
        Assert.Equal((1500, 500), await ServedSizeAsync(header));

        // The cached account (and the statuses embedding it) show the new images at once.
        var profile = await Client.GetAsync($"api/v1/accounts/{user.Id}");
        Assert.Equal(avatar, profile.GetProperty("avatar").GetString());
        Assert.Equal(header, profile.GetProperty("header").GetString());
        Assert.Equal(avatar, (await Client.GetAsync("api/v1/accounts/verify_credentials", user.Token)).GetProperty("avatar").GetString());
    }

    [Fact]
    public async Task Replacing_and_removing_delete_the_old_objects()
    {
        var user = await Client.SignUpAsync();
        var first = await Mastodon.Ok(await UpdateAsync(user, ("avatar", Jpeg(300, 300)), ("header", Jpeg(300, 100))));
        var oldAvatar = first.GetProperty("avatar").GetString()!;
        var oldHeader = first.GetProperty("header").GetString()!;

        var second = await Mastodon.Ok(await UpdateAsync(user, ("avatar", Jpeg(500, 700))));
        var newAvatar = second.GetProperty("avatar").GetString()!;
        Assert.NotEqual(oldAvatar, newAvatar);
        Assert.Equal(oldHeader, second.GetProperty("header").GetString());
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(oldAvatar));
        Assert.Equal((400, 400), await ServedSizeAsync(newAvatar));

        using var removeAvatar = await Client.SendAsync(HttpMethod.Delete, "api/v1/profile/avatar", user.Token);
        var afterAvatar = await Mastodon.Ok(removeAvatar);
        Assert.EndsWith("/avatars/original/missing.png", afterAvatar.GetProperty("avatar").GetString(), StringComparison.Ordinal);
        Assert.Equal(oldHeader, afterAvatar.GetProperty("header").GetString());
        Assert.True(afterAvatar.TryGetProperty("source", out _), "DELETE /profile/avatar answers the CredentialAccount");
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(newAvatar));

        using var removeHeader = await Client.SendAsync(HttpMethod.Delete, "api/v1/profile/header", user.Token);
        var afterHeader = await Mastodon.Ok(removeHeader);
        Assert.EndsWith("/headers/original/missing.png", afterHeader.GetProperty("header").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(oldHeader));
        Assert.EndsWith("/headers/original/missing.png", (await Client.GetAsync($"api/v1/accounts/{user.Id}")).GetProperty("header").GetString(), StringComparison.Ordinal);

        // Removing what is already the default is fine.
        using var again = await Client.SendAsync(HttpMethod.Delete, "api/v1/profile/avatar", user.Token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Bad_images_are_a_422_and_change_nothing()
    {
        var user = await Client.SignUpAsync();
        var before = await Client.GetAsync("api/v1/accounts/verify_credentials", user.Token);

        using var text = await UpdateAsync(user, ("avatar", "this is not an image at all"u8.ToArray()));
        Assert.Contains("Avatar", await Mastodon.ErrorAsync(text, HttpStatusCode.UnprocessableEntity), StringComparison.Ordinal);

        var jpeg = Jpeg(64, 64);
        using var truncated = await UpdateAsync(user, ("header", jpeg[..(jpeg.Length / 2)]));
        Assert.Contains("Header", await Mastodon.ErrorAsync(truncated, HttpStatusCode.UnprocessableEntity), StringComparison.Ordinal);

        // Past Mastodon's 8 MB: a JPEG header with padding, refused before decoding.
        var big = new byte[8 * 1024 * 1024 + 1];
        jpeg.CopyTo(big, 0);
        using var tooBig = await UpdateAsync(user, ("avatar", big));
        Assert.Contains("8 MB", await Mastodon.ErrorAsync(tooBig, HttpStatusCode.UnprocessableEntity), StringComparison.Ordinal);

        var after = await Client.GetAsync("api/v1/accounts/verify_credentials", user.Token);
        Assert.Equal(before.GetProperty("display_name").GetString(), after.GetProperty("display_name").GetString());
        Assert.Equal(before.GetProperty("avatar").GetString(), after.GetProperty("avatar").GetString());
        Assert.Equal(before.GetProperty("header").GetString(), after.GetProperty("header").GetString());
    }
}

public sealed class SqliteProfileImageTests(SqliteServer f) : ProfileImageTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresProfileImageTests(PostgresServer f) : ProfileImageTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisProfileImageTests(PostgresRedisServer f) : ProfileImageTests(f), IClassFixture<PostgresRedisServer>;
