using System.Reflection;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Architecture;

/// <summary>
/// The test command's second run of the HTTP API suite through nginx (<see cref="Front"/>) picks its classes by the trait
/// <c>Front=nginx</c> (<see cref="ThroughFrontAttribute"/>): every class on a PostgreSQL server fixture says whether it runs through the front, and a class that
/// cannot says why, so that none is left out unnoticed.
/// </summary>
public sealed class FrontModeTests
{
    [Fact]
    public void Every_class_on_a_PostgreSQL_server_fixture_is_marked_to_run_through_the_front_or_excluded_with_a_reason()
    {
        var unmarked = new List<string>();
        foreach (var type in typeof(FrontModeTests).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }))
        {
            var onPostgres = type.GetInterfaces()
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>))
                .Select(i => i.GetGenericArguments()[0])
                .Any(f => typeof(ServerFixture).IsAssignableFrom(f) && ((ServerFixture)Activator.CreateInstance(f)!).Provider == DbProvider.Postgres);
            if (!onPostgres)
                continue;
            var through = type.GetCustomAttribute<ThroughFrontAttribute>() is not null;
            var reason = type.GetCustomAttribute<NotThroughFrontAttribute>()?.Reason;
            if (through == reason is not null || reason is { Length: 0 })
                unmarked.Add(type.Name);
        }
        Assert.Empty(unmarked);
    }
}
