using System.Security.Cryptography;
using System.Text;

namespace Lenta.Server.Platform.Objects;

/// <summary>
/// An object store in a folder. A put streams to a temporary file beside the target, fsyncs it and renames it
/// into place, so a crash leaves either the whole object or nothing (and a stray temp file, removed by the
/// next put or ignored: temp names start with a dot, which no key may).
/// </summary>
public sealed class DiskObjectStore(string root) : IObjectStore
{
    private readonly string _root = Path.GetFullPath(root);

    public string Root => _root;

    private string PathOf(string key)
    {
        ObjectKeys.Validate(key);
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    public async Task<long> PutAsync(string key, Stream content, CancellationToken ct = default)
    {
        var path = PathOf(key);
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".tmp-{Guid.NewGuid():N}");
        try
        {
            long length;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, 81920, ct);
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
                length = file.Length;
            }
            File.Move(temp, path, overwrite: true);
            return length;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public Task<ObjectInfo?> StatAsync(string key, CancellationToken ct = default)
    {
        var info = new FileInfo(PathOf(key));
        if (!info.Exists)
            return Task.FromResult<ObjectInfo?>(null);
        var stamp = info.LastWriteTimeUtc;
        return Task.FromResult<ObjectInfo?>(new ObjectInfo(key, info.Length, new DateTimeOffset(stamp), ETagOf(key, info.Length, stamp)));
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        try
        {
            Stream stream = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<int> DeletePrefixAsync(string prefix, CancellationToken ct = default)
    {
        // Only the folder that holds the prefix is walked, so deleting one upload's variants stays cheap.
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? _root : Path.Combine(_root, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        if (slash >= 0)
            ObjectKeys.Validate(prefix[..slash]);
        if (!Directory.Exists(start))
            return Task.FromResult(0);
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && !Path.GetFileName(file).StartsWith('.'))
            {
                File.Delete(file);
                deleted++;
            }
        }
        return Task.FromResult(deleted);
    }

    public async Task PingAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_root);
        var probe = Path.Combine(_root, $".probe-{Environment.ProcessId}");
        await File.WriteAllTextAsync(probe, "ok", ct);
        File.Delete(probe);
    }

    public Task CreateIfMissingAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    private static string ETagOf(string key, long length, DateTime stamp)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{key}|{length}|{stamp.Ticks}"));
        return $"\"{Convert.ToHexStringLower(hash.AsSpan(0, 12))}\"";
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
