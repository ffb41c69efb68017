using System.Collections.Concurrent;

namespace Lenta.Server.Platform.Cache;

/// <summary>
/// A process-local memo of decoded cache values: the cache hands out bytes, and decoding the same bytes again on every
/// read (JSON → object) is pure waste. An entry is reused only while the cache still holds exactly the bytes it was
/// decoded from (compared in full), so it can never be staler than the cache itself — on any node, whatever wrote the
/// cache. Each entry can also carry one rendering of its value (serialized JSON for a base URL), computed once.
/// Bounded: past <see cref="Capacity"/> entries the memo starts over.
/// </summary>
public sealed class DecodedMemo<T>(int capacity = 50_000) where T : class
{
    private readonly ConcurrentDictionary<long, Entry> _entries = new();

    public int Capacity => capacity;

    public sealed class Entry(byte[] bytes, T value)
    {
        public byte[] Bytes { get; } = bytes;

        public T Value { get; } = value;

        private volatile Rendering? _rendered;

        /// <summary>The rendering of <see cref="Value"/> for <paramref name="target"/> (e.g. a base URL), made once per entry and target.</summary>
        public byte[] Render(string target, Func<T, byte[]> render)
        {
            if (_rendered is { } r && r.For == target)
                return r.Bytes;
            var bytes = render(Value);
            _rendered = new Rendering(target, bytes);
            return bytes;
        }
    }

    public sealed record Rendering(string For, byte[] Bytes);

    /// <summary>The memo's entry for <paramref name="id"/> if it holds exactly <paramref name="value"/> (the instance handed out), else null.</summary>
    public Entry? Find(long id, T value) => _entries.TryGetValue(id, out var e) && ReferenceEquals(e.Value, value) ? e : null;

    /// <summary>The entry for <paramref name="id"/> decoded from <paramref name="bytes"/>: the memo's if it came from the same bytes, else a fresh one.</summary>
    public Entry Get(long id, byte[] bytes, Func<byte[], T> decode)
    {
        if (_entries.TryGetValue(id, out var entry) && entry.Bytes.AsSpan().SequenceEqual(bytes))
            return entry;
        entry = new Entry(bytes, decode(bytes));
        if (_entries.Count >= capacity)
            _entries.Clear();
        _entries[id] = entry;
        return entry;
    }
}
