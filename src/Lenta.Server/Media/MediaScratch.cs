using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;

namespace Lenta.Server.Media;

/// <summary>A job's temp folder holding a local copy of the raw upload (<see cref="Input"/>); deleted when disposed.</summary>
public sealed class MediaScratch : IAsyncDisposable
{
    private MediaScratch(string folder)
    {
        Folder = folder;
        Input = Path.Combine(folder, "input");
    }

    public string Folder { get; }

    public string Input { get; }

    public static async Task<MediaScratch> CreateAsync(ObjectStores stores, MediaRow row, string kind, CancellationToken ct)
    {
        var scratch = new MediaScratch(Path.Combine(Path.GetTempPath(), $"lenta-{kind}-{row.Id}-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(scratch.Folder);
        try
        {
            await using var raw = await stores.Raw.OpenReadAsync(row.RawKey, ct) ?? throw new PermanentJobFailureException("The upload's original is missing.");
            await using var file = File.Create(scratch.Input);
            await raw.CopyToAsync(file, ct);
            return scratch;
        }
        catch
        {
            await scratch.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
