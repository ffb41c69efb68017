using ScottPlot;

namespace Lenta.Bench.Social;

/// <summary>PNG plots of a <c>social</c> run (ScottPlot): latency percentiles per workload at 50 % load, and throughput against offered rate.</summary>
public static class SocialPlots
{
    private static readonly double[] Percentiles = [50, 90, 99, 99.9];

    public static void Write(IReadOnlyList<GraphResult> graphs, string folder)
    {
        foreach (var g in graphs)
        {
            var name = g.World.Graph.Name;
            Latency(g).SavePng(Path.Combine(folder, $"social-{name}-latency.png"), 900, 520);
            Throughput(g).SavePng(Path.Combine(folder, $"social-{name}-throughput.png"), 900, 520);
        }
    }

    private static Plot Latency(GraphResult g)
    {
        var plot = new Plot();
        double[] xs = [.. Enumerable.Range(0, Percentiles.Length).Select(i => (double)i)];
        foreach (var r in g.Rows)
        {
            var line = plot.Add.Scatter(xs, Percentiles.Select(p => r.Half.Percentile(p)).ToArray());
            line.LegendText = r.Workload.Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, [.. Percentiles.Select(p => $"p{p}")]);
        plot.Axes.SetLimitsY(0, Math.Max(1, g.Rows.Max(r => r.Half.Percentile(99.9)) * 1.1));
        plot.Title($"{g.World.Graph.Name}: latency at 50 % of each workload's maximum (from intended send time)");
        plot.YLabel("ms");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot Throughput(GraphResult g)
    {
        var plot = new Plot();
        var top = 0.0;
        foreach (var r in g.Rows)
        {
            var line = plot.Add.Scatter(r.Open.Select(o => o.Run.Offered).ToArray(), r.Open.Select(o => o.Run.Throughput).ToArray());
            line.LegendText = r.Workload.Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
            top = Math.Max(top, r.Open.Max(o => o.Run.Offered));
        }
        var diagonal = plot.Add.Line(0, 0, top, top);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LegendText = "done = offered";
        plot.Title($"{g.World.Graph.Name}: throughput against offered rate (open loop)");
        plot.XLabel("offered req/s");
        plot.YLabel("done req/s");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
