using System.Globalization;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Media;

/// <summary>
/// Avatars and headers: the upload goes through <see cref="PhotoProcessor.Crop"/> (type from the bytes, EXIF rotation
/// applied, metadata stripped) to Mastodon's sizes, avatar 400×400 and header 1500×500, and the result goes to the
/// processed store as <c>accounts/{avatars,headers}/{account}/{random}.{jpg,png}</c>, served under <c>/system</c> like
/// media. Done in the request: one bounded image, decoded at most at <see cref="PhotoLimits.OriginalMaxPixels"/>, takes
/// well under a second, and the client wants the new profile in the answer.
/// </summary>
public sealed class ProfileImages(ObjectStores stores, IOptions<MediaOptions> options, ILogger<ProfileImages> log) : IProfileImages
{
    public const string KeyPrefix = "accounts/";

    /// <summary>Side by side at most this many (the machine's cores), so a burst of profile edits cannot starve the API.</summary>
    private static readonly SemaphoreSlim Slots = new(Environment.ProcessorCount);

    public long SizeLimit => options.Value.ProfileImageSizeLimit;

    public async Task<string> StoreAsync(long accountId, ProfileImage kind, IFormFile file, CancellationToken ct)
    {
        var label = kind == ProfileImage.Avatar ? "Avatar" : "Header";
        if (file.Length == 0)
            throw new ApiException(422, $"Validation failed: {label} file is empty");
        if (file.Length > SizeLimit)
            throw new ApiException(422, string.Create(CultureInfo.InvariantCulture, $"Validation failed: {label} file size must be less than {SizeLimit / (1024 * 1024)} MB"));

        var folder = Path.Combine(Path.GetTempPath(), $"lenta-profile-{accountId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var input = Path.Combine(folder, "input");
            await using (var target = File.Create(input))
            await using (var source = file.OpenReadStream())
                await source.CopyToAsync(target, ct);

            var (width, height) = kind == ProfileImage.Avatar ? (400, 400) : (1500, 500);
            ProcessedImage image;
            await Slots.WaitAsync(ct);
            try
            {
                image = await Task.Run(() => PhotoProcessor.Crop(input, Path.Combine(folder, "out"), "image", width, height,
                    new PhotoLimits(MaxInputPixels: options.Value.MaxPixels)), ct);
            }
            catch (MediaRejectedException e)
            {
                throw new ApiException(422, $"Validation failed: {label} {char.ToLowerInvariant(e.Message[0])}{e.Message[1..]}");
            }
            finally
            {
                Slots.Release();
            }

            var key = $"{KeyPrefix}{(kind == ProfileImage.Avatar ? "avatars" : "headers")}/{accountId}/{MediaService.RandomName()}.{image.Extension}";
            await using (var processed = File.OpenRead(image.Path))
                await stores.Processed.PutAsync(key, processed, ct);
            return key;
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        try
        {
            await stores.Processed.DeletePrefixAsync(key, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogWarning(e, "Deleting the replaced profile image {Key} failed; the object stays, unreachable", key);
        }
    }

    public string Url(string key, string serverBase) =>
        $"{(string.IsNullOrEmpty(options.Value.BaseUrl) ? serverBase + "/system" : options.Value.BaseUrl.TrimEnd('/'))}/{key}";
}
