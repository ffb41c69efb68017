namespace Lenta.Bench.Social;

/// <summary>
/// A follow graph to seed: accounts are 0..Accounts-1, <see cref="Follows"/> are (follower, target) pairs, and
/// <see cref="Posters"/> say how many posts each account gets. Generated from a fixed seed, so every run of a
/// benchmark measures the same graph.
/// </summary>
public sealed record SocialGraph(string Name, int Accounts, IReadOnlyList<(int Follower, int Target)> Follows, int[] PostsPerAccount, int[] Actors)
{
    /// <summary>
    /// The shape of socfb-Reed98, the graph DeathStarBench's socialNetwork loads: 962 accounts, 18,812 friendships,
    /// each a follow both ways (~39 followers each). The edges are drawn (Chung–Lu) with heavy-tailed weights so degrees
    /// spread as a college friendship graph's do (a few over 200, many under 10); the dataset itself is not reachable here.
    /// Every account posts 10 times and acts in the workloads.
    /// </summary>
    public static SocialGraph Reed98(int seed = 98)
    {
        const int accounts = 962, friendships = 18_812;
        var random = new Random(seed);
        // Log-normal weights: median degree ~30, a tail to ~300 (socfb-Reed98: mean 39, max 313).
        var weights = Enumerable.Range(0, accounts).Select(_ => Math.Exp(Gaussian(random) * 0.75)).ToArray();
        var cumulative = new double[accounts];
        var sum = 0.0;
        for (var i = 0; i < accounts; i++)
            cumulative[i] = sum += weights[i];
        int Draw()
        {
            var i = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            return Math.Min(i < 0 ? ~i : i, accounts - 1);
        }
        var pairs = new HashSet<(int, int)>();
        while (pairs.Count < friendships)
        {
            int a = Draw(), b = Draw();
            if (a != b)
                pairs.Add((Math.Min(a, b), Math.Max(a, b)));
        }
        var follows = new List<(int, int)>(friendships * 2);
        foreach (var (a, b) in pairs.Order())
        {
            follows.Add((a, b));
            follows.Add((b, a));
        }
        return new SocialGraph("reed98", accounts, follows, Enumerable.Repeat(10, accounts).ToArray(), Enumerable.Range(0, accounts).ToArray());
    }

    /// <summary>
    /// A power-law graph: account of popularity rank r (0-based) is followed by ⌊n / (r + 1)⌋ accounts drawn at random,
    /// so rank 0 has every other account as a follower (100,000), ranks 0–9 have 10,000 or more, and the total is ~n·ln n
    /// follows (1.2 million for 100,000). Posts: the 100 most followed post 10 times, 20,000 random others once;
    /// <paramref name="actors"/> random accounts act in the workloads.
    /// </summary>
    public static SocialGraph PowerLaw(int followedByAll = 100_000, int actors = 2_000, int seed = 7)
    {
        var accounts = followedByAll + 1;
        var random = new Random(seed);
        var follows = new List<(int, int)>();
        var chosen = new HashSet<int>();
        for (var rank = 0; rank < accounts; rank++)
        {
            var k = Math.Min(followedByAll, followedByAll / (rank + 1));
            if (k == followedByAll)
            {
                for (var f = 0; f < accounts; f++)
                    if (f != rank)
                        follows.Add((f, rank));
                continue;
            }
            // Floyd's sampling: k distinct followers out of the other accounts.
            chosen.Clear();
            for (var j = accounts - 1 - k; j < accounts - 1; j++)
            {
                var t = random.Next(j + 1);
                chosen.Add(chosen.Contains(t) ? j : t);
            }
            foreach (var c in chosen)
                follows.Add((c >= rank ? c + 1 : c, rank));
        }
        var posts = new int[accounts];
        for (var r = 0; r < 100; r++)
            posts[r] = 10;
        foreach (var a in Sample(random, accounts, 20_000))
            posts[a] = Math.Max(posts[a], 1);
        return new SocialGraph("powerlaw", accounts, follows, posts, Sample(random, accounts, actors).ToArray());
    }

    public long PostCount => PostsPerAccount.Sum(p => (long)p);

    public int MaxFollowers => Follows.CountBy(f => f.Target).Max(g => g.Value);

    private static IEnumerable<int> Sample(Random random, int n, int k)
    {
        var set = new HashSet<int>();
        while (set.Count < Math.Min(k, n))
            set.Add(random.Next(n));
        return set.Order();
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
