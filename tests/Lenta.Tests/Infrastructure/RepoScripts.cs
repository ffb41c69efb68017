using System.Diagnostics;

namespace Lenta.Tests.Infrastructure;

/// <summary>The repository's shell scripts (<c>scripts/*.sh</c>), found above the tests' folder and run with bash.</summary>
public static class RepoScripts
{
    /// <summary>The full path of <c>scripts/<paramref name="name"/></c> in the repository the tests were built in.</summary>
    public static string Find(string name)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "scripts", name)))
            root = root.Parent;
        return Path.Combine(root?.FullName ?? throw new InvalidOperationException($"scripts/{name} not found above the tests"), "scripts", name);
    }

    /// <summary>
    /// Runs <paramref name="script"/> with <paramref name="args"/> (and <paramref name="environment"/> added to this
    /// process's); its exit code and both outputs. A run past <paramref name="timeout"/> is killed with its children and
    /// is a <see cref="TimeoutException"/> carrying what it wrote to stderr.
    /// </summary>
    public static Task<(int Code, string Stdout, string Stderr)> RunAsync(string script, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        return ChildProcess.RunAsync(info, timeout,
            stderr => $"{Path.GetFileName(script)} {string.Join(' ', info.ArgumentList.Skip(1))} took over {timeout}:\n{stderr}");
    }
}
