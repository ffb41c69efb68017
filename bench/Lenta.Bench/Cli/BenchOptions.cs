using System.Globalization;

namespace Lenta.Bench.Cli;

/// <summary>
/// <c>--name value</c> options of one subcommand. Every name is declared up front, so a typo
/// (<c>--second 3</c>) fails before minutes of measuring rather than silently using a default.
/// </summary>
public sealed class BenchOptions
{
    private readonly Dictionary<string, string> _values;

    private BenchOptions(Dictionary<string, string> values) => _values = values;

    public static BenchOptions Parse(IReadOnlyList<string> args, params string[] known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? arg[..eq] : arg;
            if (!name.StartsWith("--", StringComparison.Ordinal) || !known.Contains(name[2..]))
                throw new UsageException($"Unknown option '{arg}'.");
            string value;
            if (eq > 0)
                value = arg[(eq + 1)..];
            else if (i + 1 < args.Count)
                value = args[++i];
            else
                throw new UsageException($"Option '{name}' needs a value.");
            values[name[2..]] = value;
        }
        return new BenchOptions(values);
    }

    public string? String(string name) => _values.GetValueOrDefault(name);

    public double Seconds(string name, double fallback, double min, double max)
    {
        if (!_values.TryGetValue(name, out var text))
            return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new UsageException($"--{name} must be a number of seconds from {min} to {max}, not '{text}'.");
        return value;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        if (!_values.TryGetValue(name, out var text))
            return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new UsageException($"--{name} must be a whole number from {min} to {max}, not '{text}'.");
        return value;
    }
}
