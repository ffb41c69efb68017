using System.Diagnostics;

namespace Lenta.Bench.Photos;

/// <summary>The <c>vipsthumbnail</c> CLI from Debian's libvips-tools: found on PATH, installed with apt-get when missing and root.</summary>
internal sealed class VipsThumbnail(string executable)
{
    public const string Package = "libvips-tools";

    public string Executable { get; } = executable;

    /// <summary>The CLI, installing its package first if it is missing and this process may; null (with the reason printed) otherwise.</summary>
    public static VipsThumbnail? Find()
    {
        var found = OnPath("vipsthumbnail");
        if (found is not null)
            return new VipsThumbnail(found);
        if (!OperatingSystem.IsLinux() || OnPath("apt-get") is null || !Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine($"vipsthumbnail is not on PATH. Install it first (Debian/Ubuntu: sudo apt-get install -y --no-install-recommends {Package}), then run again.");
            return null;
        }
        Console.WriteLine($"vipsthumbnail is not on PATH; installing {Package} with apt-get…");
        if (Run("apt-get", ["update", "-qq"]) != 0 || Run("apt-get", ["install", "-y", "--no-install-recommends", Package]) != 0)
        {
            Console.Error.WriteLine($"apt-get could not install {Package}; install it by hand and run again.");
            return null;
        }
        found = OnPath("vipsthumbnail");
        if (found is null)
            Console.Error.WriteLine($"{Package} is installed but vipsthumbnail is still not on PATH.");
        return found is null ? null : new VipsThumbnail(found);
    }

    /// <summary>"libvips 8.14.1" or the like, from <c>--vips-version</c>.</summary>
    public string Version()
    {
        var (code, output, _) = Capture(Executable, ["--vips-version"]);
        return code == 0 ? output.Trim() : "unknown";
    }

    /// <summary>One variant: fit inside boxWidth×boxHeight, auto-rotated, written as JPEG with the given save options (e.g. Q=85,strip).</summary>
    public void Thumbnail(string input, int boxWidth, int boxHeight, string output, string saveOptions, int? concurrency)
    {
        List<string> args = [input, "--size", $"{boxWidth}x{boxHeight}", "-o", $"{output}[{saveOptions}]"];
        if (concurrency is { } threads)
            args.Add($"--vips-concurrency={threads}");
        var (code, _, error) = Capture(Executable, args);
        if (code != 0)
            throw new InvalidOperationException($"vipsthumbnail exited with {code} on {input}: {error.Trim()}");
    }

    private static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static int Run(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static (int Code, string Output, string Error) Capture(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }
}
