namespace Lenta.Server.Accounts;

public enum ProfileImage
{
    Avatar,
    Header,
}

/// <summary>
/// The avatar and header files, implemented by the Media module (which owns image processing and the processed store):
/// Accounts keeps only each account's current object key.
/// </summary>
public interface IProfileImages
{
    /// <summary>
    /// Checks, processes and stores an upload under a fresh immutable key and returns the key; an <see cref="Api.ApiException"/>
    /// 422 when the file is not an image this server reads or is over the size limit (nothing is stored then).
    /// </summary>
    /// <summary>Largest upload in bytes.</summary>
    long SizeLimit { get; }

    Task<string> StoreAsync(long accountId, ProfileImage kind, IFormFile file, CancellationToken ct);

    /// <summary>Deletes a stored image that no row names any more; never throws (a failure is logged and leaves an unreachable object).</summary>
    Task DeleteAsync(string key, CancellationToken ct);

    /// <summary>The public URL of a stored image, under the media base URL (or this server's /system).</summary>
    string Url(string key, string serverBase);
}
