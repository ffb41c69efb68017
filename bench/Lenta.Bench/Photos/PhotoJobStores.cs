using System.Globalization;
using Lenta.Server.Media;
using Lenta.Server.Platform.Objects;

namespace Lenta.Bench.Photos;

/// <summary>
/// The photo job's store traffic around <see cref="PhotoProcessor.Process"/>, as PhotoJobHandler does it (without the database):
/// the raw upload copied from the raw store to a local file, processed, both variants put into the processed store. The raw
/// uploads are stored before the clock starts (the API did that, not the job).
/// </summary>
internal sealed class PhotoJobStores(string name, ObjectStores stores, Func<Task> dispose)
{
    private readonly Dictionary<string, string> _rawKeys = [];

    public string Name => name;

    /// <summary>Folders under <paramref name="folder"/>, as the disk adapter has them under the data folder.</summary>
    public static PhotoJobStores Disk(string folder) =>
        new("disk", new ObjectStores(new DiskObjectStore(Path.Combine(folder, "raw")), new DiskObjectStore(Path.Combine(folder, "processed"))), () => Task.CompletedTask);

    /// <summary>Two fresh buckets on <paramref name="options"/>' service, emptied and removed afterwards.</summary>
    public static async Task<PhotoJobStores> S3Async(ObjectStoreOptions options)
    {
        var client = S3ObjectStore.CreateClient(options);
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var raw = new S3ObjectStore(client, $"bench-raw-{suffix}", null);
        var processed = new S3ObjectStore(client, $"bench-processed-{suffix}", ObjectContentTypes.Immutable);
        await raw.CreateIfMissingAsync(CancellationToken.None);
        await processed.CreateIfMissingAsync(CancellationToken.None);
        return new PhotoJobStores($"S3 at {options.ServiceUrl}", new ObjectStores(raw, processed), async () =>
        {
            foreach (var store in new[] { raw, processed })
            {
                await store.DeletePrefixAsync("");
                await client.DeleteBucketAsync(store.Bucket);
            }
            client.Dispose();
        });
    }

    public async Task UploadAsync(IEnumerable<string> inputs)
    {
        foreach (var input in inputs)
        {
            var key = $"media/{_rawKeys.Count.ToString(CultureInfo.InvariantCulture)}/{Guid.NewGuid():N}";
            await using var file = File.OpenRead(input);
            await stores.Raw.PutAsync(key, file);
            _rawKeys[input] = key;
        }
    }

    /// <summary>One photo job: raw store → local file → PhotoProcessor → processed store.</summary>
    public void Process(string input, string output, PhotoLimits limits) => ProcessAsync(input, output, limits).GetAwaiter().GetResult();

    private async Task ProcessAsync(string input, string output, PhotoLimits limits)
    {
        Directory.CreateDirectory(output);
        var local = Path.Combine(output, "input");
        await using (var raw = await stores.Raw.OpenReadAsync(_rawKeys[input]) ?? throw new InvalidOperationException($"{input} was not uploaded"))
        await using (var file = File.Create(local))
            await raw.CopyToAsync(file);
        var result = PhotoProcessor.Process(local, output, limits);
        var prefix = $"media/{_rawKeys[input]}/{Guid.NewGuid():N}";
        foreach (var variant in new[] { result.Original, result.Small })
        {
            await using var f = File.OpenRead(variant.Path);
            await stores.Processed.PutAsync($"{prefix}/{Path.GetFileName(variant.Path)}", f);
        }
        File.Delete(local);
    }

    public Task DisposeAsync() => dispose();
}
