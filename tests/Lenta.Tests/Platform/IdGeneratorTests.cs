using Lenta.Server.Platform.Ids;

namespace Lenta.Tests.Platform;

public sealed class IdGeneratorTests
{
    [Fact]
    public void Ids_increase_and_never_repeat_under_contention()
    {
        var gen = new IdGenerator(5);
        var all = new long[8][];
        Parallel.For(0, 8, t =>
        {
            var mine = new long[50_000];
            for (var i = 0; i < mine.Length; i++)
                mine[i] = gen.Next();
            all[t] = mine;
        });
        Assert.All(all, ids => Assert.True(ids.Zip(ids.Skip(1)).All(p => p.Second > p.First)));
        Assert.Equal(400_000, all.SelectMany(x => x).Distinct().Count());
    }

    [Fact]
    public void Ids_of_different_nodes_never_collide_and_carry_their_node()
    {
        var a = new IdGenerator(1);
        var b = new IdGenerator(2);
        var ids = Enumerable.Range(0, 20_000).SelectMany(_ => new[] { a.Next(), b.Next() }).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(1, IdGenerator.NodeOf(a.Next()));
        Assert.Equal(2, IdGenerator.NodeOf(b.Next()));
    }

    [Fact]
    public void Ids_sort_by_time_across_nodes()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var late = new IdGenerator(1023, time);
        var early = new IdGenerator(0, time);
        var first = late.Next();
        time.Now = time.Now.AddMilliseconds(1);
        var second = early.Next();
        Assert.True(second > first, "an id from a later millisecond sorts after, whatever the node");
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero), IdGenerator.TimeOf(first));
        Assert.True(IdGenerator.MinIdAt(time.Now) <= second);
        Assert.True(IdGenerator.MinIdAt(time.Now) > first);
    }

    [Fact]
    public void A_clock_that_steps_back_never_produces_a_smaller_id()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var gen = new IdGenerator(3, time);
        var before = gen.Next();
        time.Now = time.Now.AddSeconds(-5);
        Assert.True(gen.Next() > before);
    }

    [Fact]
    public void More_than_4096_ids_in_one_millisecond_stay_unique_and_ordered()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var gen = new IdGenerator(3, time);
        var ids = Enumerable.Range(0, 10_000).Select(_ => gen.Next()).ToList();
        Assert.True(ids.Zip(ids.Skip(1)).All(p => p.Second > p.First));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1024)]
    public void A_node_number_out_of_range_is_refused(int node) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new IdGenerator(node));

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
