namespace Lenta.Server.Platform.Cache;

/// <summary>
/// A rendering of an immutable value (its JSON for one base URL), made on first use and kept with the value. A
/// cached value lives as long as its cache entry (see <see cref="ICache.GetManyDecodedAsync{T}"/>), and so does its
/// rendering: a changed value is a new object with an empty slot.
/// </summary>
public sealed class RenderSlot
{
    private volatile Rendering? _rendered;

    private sealed record Rendering(string For, byte[] Bytes);

    /// <summary>Whether a rendering for <paramref name="target"/> is there already.</summary>
    public bool Has(string target) => TryGet(target, out _);

    /// <summary>The rendering for <paramref name="target"/> if there is one.</summary>
    public bool TryGet(string target, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? bytes)
    {
        if (_rendered is { } r && r.For == target)
        {
            bytes = r.Bytes;
            return true;
        }
        bytes = null;
        return false;
    }

    public byte[] Set(string target, byte[] bytes)
    {
        _rendered = new Rendering(target, bytes);
        return bytes;
    }
}
