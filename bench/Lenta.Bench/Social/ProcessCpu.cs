using System.Globalization;

namespace Lenta.Bench.Social;

/// <summary>
/// CPU time of named groups of processes, read from <c>/proc/&lt;pid&gt;/stat</c> (user + system): each group is the
/// processes its roots name (looked up again at every reading, so a restarted node is followed) and all their
/// descendants — nginx's workers, PostgreSQL's backends, the Erlang VM's helpers. Between two readings each group is
/// charged what its processes of the second reading used since the first (all of it for one that started since); a
/// process that exited in between takes the time it used since the first reading with it (PostgreSQL's backends live as
/// long as the nodes' pooled connections, so on a benchmark this is noise), and is never charged negatively.
/// </summary>
public sealed class ProcessCpu(IReadOnlyList<(string Name, Func<IEnumerable<int>> Roots)> groups)
{
    // USER_HZ: the unit of /proc/<pid>/stat's times, 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public IEnumerable<string> Names => groups.Select(g => g.Name);

    /// <summary>Each group's CPU time between two readings.</summary>
    public static IReadOnlyDictionary<string, TimeSpan> Used(Reading before, Reading after) => after.Ticks.ToDictionary(
        g => g.Key,
        g => TimeSpan.FromSeconds(g.Value.Sum(p => p.Value - Math.Min(p.Value, before.Ticks.GetValueOrDefault(g.Key)?.GetValueOrDefault(p.Key) ?? 0)) / TicksPerSecond),
        StringComparer.Ordinal);

    /// <summary>The CPU time of every process of every group so far.</summary>
    public Reading Read()
    {
        var all = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } stat)
                all[pid] = stat;
        }
        var children = all.ToLookup(p => p.Value.Parent, p => p.Key);
        var ticks = new Dictionary<string, Dictionary<int, long>>(StringComparer.Ordinal);
        foreach (var (name, roots) in groups)
        {
            var processes = ticks[name] = [];
            var stack = new Stack<int>(roots().Where(all.ContainsKey));
            while (stack.TryPop(out var pid))
            {
                if (!processes.TryAdd(pid, all[pid].Ticks))
                    continue;
                foreach (var child in children[pid])
                    stack.Push(child);
            }
        }
        return new Reading(ticks);
    }

    /// <summary>A reading: per group, each process's user + system time in clock ticks.</summary>
    public sealed record Reading(IReadOnlyDictionary<string, Dictionary<int, long>> Ticks)
    {
        public TimeSpan Total => TimeSpan.FromSeconds(Ticks.Values.Sum(g => g.Values.Sum()) / TicksPerSecond);
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
