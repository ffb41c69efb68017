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
catch (Exception e) when (IsMisconfiguration(e))
{
    // Misconfiguration: one plain line per problem on stderr naming the setting, besides the structured log.
    // Several options classes failing validation at once arrive as one AggregateException.
    foreach (var problem in e is AggregateException all ? all.InnerExceptions : [e])
    {
        // One options class's validation may fail on several settings: a line for each.
        foreach (var message in problem is Microsoft.Extensions.Options.OptionsValidationException o ? o.Failures : [problem.Message])
            await Console.Error.WriteLineAsync($"Lenta cannot start: {message}");
    }
    return 2;
}

static bool IsMisconfiguration(Exception e) => e switch
{
    StartupFailedException or Microsoft.Extensions.Options.OptionsValidationException => true,
    AggregateException all => all.InnerExceptions.All(IsMisconfiguration),
    _ => false,
};
