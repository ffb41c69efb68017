using System.Collections.Concurrent;
using System.IO.Hashing;

namespace Lenta.Server.Platform.Cache;

/// <summary>
/// Decoded values of a remote cache, kept by the exact bytes they were decoded from (a 128-bit hash of them, with the
/// decoder): a read still fetches the current bytes, and only when they are the bytes decoded before is the same object
/// handed out again — with whatever renderings its readers gave it — instead of decoding and rendering anew. A value
/// changed by any process has other bytes, so it can never be served stale from here. Bounded by the bytes it stands
/// for: past <see cref="MaxBytes"/> it starts over.
/// </summary>
internal sealed class DecodedMemo
{
    private const long MaxBytes = 64L * 1024 * 1024;
    private readonly ConcurrentDictionary<(UInt128 Hash, int Length, RuntimeMethodHandle Decoder), object> _memo = new();
    private long _bytes;

    public T Decode<T>(byte[] bytes, Func<byte[], T> decode) where T : class
    {
        var key = (XxHash128.HashToUInt128(bytes), bytes.Length, decode.Method.MethodHandle);
        if (_memo.TryGetValue(key, out var known) && known is T hit)
            return hit;
        var decoded = decode(bytes);
        if (Interlocked.Add(ref _bytes, bytes.Length) > MaxBytes)
        {
            _memo.Clear();
            Interlocked.Exchange(ref _bytes, bytes.Length);
        }
        return (T)_memo.GetOrAdd(key, decoded);
    }
}
