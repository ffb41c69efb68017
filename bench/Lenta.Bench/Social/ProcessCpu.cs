using System.Globalization;

namespace Lenta.Bench.Social;

/// <summary>
/// CPU time of named groups of processes, read from <c>/proc/&lt;pid&gt;/stat</c> (user + system): each group is the
/// processes its roots name (looked up again at every reading, so a restarted node is followed) and all their
/// descendants — nginx's workers, PostgreSQL's backends, the Erlang VM's helpers. A descendant's time is counted while it
/// lives; a child that exits between two readings takes the time it used since the first one with it (PostgreSQL's
/// backends live as long as the nodes' pooled connections, so on a benchmark this is noise).
/// </summary>
public sealed class ProcessCpu(IReadOnlyList<(string Name, Func<IEnumerable<int>> Roots)> groups)
{
    // USER_HZ: the unit of /proc/<pid>/stat's times, 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public IEnumerable<string> Names => groups.Select(g => g.Name);

    /// <summary>Each group's CPU time so far.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Read()
    {
        var all = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } stat)
                all[pid] = stat;
        }
        var children = all.ToLookup(p => p.Value.Parent, p => p.Key);
        var times = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (name, roots) in groups)
        {
            var seen = new HashSet<int>();
            var stack = new Stack<int>(roots().Where(all.ContainsKey));
            long ticks = 0;
            while (stack.TryPop(out var pid))
            {
                if (!seen.Add(pid))
                    continue;
                ticks += all[pid].Ticks;
                foreach (var child in children[pid])
                    stack.Push(child);
            }
            times[name] = TimeSpan.FromSeconds(ticks / TicksPerSecond);
        }
        return times;
    }

    /// <summary>The pid a pid file names on its first line (nginx, PostgreSQL, Redis, a cluster node), if the file is there.</summary>
    public static IEnumerable<int> PidFile(string path)
    {
        try
        {
            var first = File.ReadLines(path).FirstOrDefault()?.Trim();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? [pid] : [];
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The processes whose command line holds <paramref name="text"/> (the Erlang VM of a RabbitMQ node, by its data folder).</summary>
    public static IEnumerable<int> CommandLineHolds(string text)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            string line;
            try
            {
                line = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            if (line.Contains(text, StringComparison.Ordinal))
                yield return pid;
        }
    }

    /// <summary>Parent pid and utime + stime of a process; null if it is gone. The fields after the command's name, which may hold spaces and parentheses.</summary>
    private static (int Parent, long Ticks)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // After the name: state (3), ppid (4), … utime (14), stime (15), counted from 1 in proc(5).
        return (int.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
    }
}
