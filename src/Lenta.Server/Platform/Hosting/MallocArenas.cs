using System.Runtime.InteropServices;

namespace Lenta.Server.Platform.Hosting;

/// <summary>
/// Caps glibc's malloc at two arenas for the threads started from here on. By default glibc gives each new thread an
/// arena of its own, up to eight per core, and each keeps its freed memory (SQLite's page caches and statements, the
/// runtime's own): under the Reed98 mix the sixteen arenas of a 2-core machine held ~35 MiB where two hold ~20
/// (docs/PERFORMANCE.md, "How memory is kept within its target"). Threads share an arena's lock instead, and little here calls malloc on a hot
/// path (the cache, the requests and the queue live on the GC heap). <c>MALLOC_ARENA_MAX</c>, when set, wins: glibc
/// read it at start and this leaves it alone. Not glibc (musl, another OS): nothing to do.
/// </summary>
public static class MallocArenas
{
    private const int ArenaMaxOption = -8; // M_ARENA_MAX in glibc's malloc.h

    public const int Default = 2;

    public static void Cap(int arenas = Default)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
            return;
        try
        {
            _ = mallopt(ArenaMaxOption, arenas);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: its malloc has no arenas to cap.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
