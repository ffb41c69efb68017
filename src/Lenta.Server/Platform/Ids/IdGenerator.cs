namespace Lenta.Server.Platform.Ids;

/// <summary>
/// 64-bit time-ordered ids: 42 bits of milliseconds since 2020-01-01 (until 2159), 10 bits of node number,
/// 12 bits of sequence (4,096 ids per millisecond per node). Ids sort by creation time across nodes, so a
/// feed is ordered by id and a cursor is an id. Serialized as strings (Mastodon's convention).
/// </summary>
public sealed class IdGenerator
{
    public const int NodeBits = 10;
    public const int SequenceBits = 12;
    public const int MaxNode = (1 << NodeBits) - 1;
    private const long SequenceMask = (1L << SequenceBits) - 1;
    public static readonly DateTimeOffset Epoch = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly long _node;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _lastMs = -1;
    private long _sequence;

    public IdGenerator(int nodeId, TimeProvider? time = null)
    {
        if (nodeId is < 0 or > MaxNode)
            throw new ArgumentOutOfRangeException(nameof(nodeId), nodeId, $"Lenta__NodeId must be between 0 and {MaxNode}.");
        _node = nodeId;
        _time = time ?? TimeProvider.System;
    }

    public int NodeId => (int)_node;

    public long Next()
    {
        lock (_gate)
        {
            var ms = (_time.GetUtcNow() - Epoch).Ticks / TimeSpan.TicksPerMillisecond;
            if (ms < _lastMs)
                ms = _lastMs; // clock stepped back: keep issuing from the last millisecond, never reuse
            if (ms == _lastMs)
            {
                _sequence = (_sequence + 1) & SequenceMask;
                if (_sequence == 0)
                    ms = ++_lastMs; // sequence exhausted: borrow the next millisecond
            }
            else
            {
                _sequence = 0;
            }
            _lastMs = ms;
            return (ms << (NodeBits + SequenceBits)) | (_node << SequenceBits) | _sequence;
        }
    }

    /// <summary>The smallest id that could be generated at <paramref name="at"/>: a cursor for "posts since a time".</summary>
    public static long MinIdAt(DateTimeOffset at)
    {
        var ms = Math.Max(0, (at - Epoch).Ticks / TimeSpan.TicksPerMillisecond);
        return ms << (NodeBits + SequenceBits);
    }

    public static DateTimeOffset TimeOf(long id) => Epoch.AddMilliseconds(id >> (NodeBits + SequenceBits));

    public static int NodeOf(long id) => (int)((id >> SequenceBits) & MaxNode);
}
