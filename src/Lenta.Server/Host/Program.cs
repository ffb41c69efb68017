using Lenta.Server.Host;
using Lenta.Server.Platform.Hosting;

// Before the host starts its threads, so they share two malloc arenas (see there).
MallocArenas.Cap();
var app = LentaHost.Build(args);
try
{
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is StartupFailedException or Microsoft.Extensions.Options.OptionsValidationException)
{
    // Misconfiguration: one plain line on stderr naming the setting, besides the structured log.
    await Console.Error.WriteLineAsync($"Lenta cannot start: {e.Message}");
    return 2;
}
