using Npgsql;

namespace Lenta.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL the test command started (<c>LENTA_TEST_POSTGRES</c>, a superuser connection string). Each
/// caller gets a fresh database of its own. Without it the PostgreSQL rows are skipped, unless
/// <c>LENTA_TEST_REQUIRE_POSTGRES=1</c> (the test command, CI) makes that a failure.
/// </summary>
public static class Postgres
{
    /// <summary>Connections one test database's pool may hold (scripts/postgres.sh gives the cluster 300).</summary>
    public const int MaxPoolSize = 20;

    private static string? Admin => Environment.GetEnvironmentVariable("LENTA_TEST_POSTGRES") is { Length: > 0 } cs ? cs : null;

    public static async Task<string> CreateDatabaseAsync()
    {
        var admin = Admin;
        if (admin is null)
        {
            if (Environment.GetEnvironmentVariable("LENTA_TEST_REQUIRE_POSTGRES") == "1")
                throw new InvalidOperationException("LENTA_TEST_REQUIRE_POSTGRES=1 but LENTA_TEST_POSTGRES is not set.");
            Assert.Skip("PostgreSQL not available: run the tests through ./test.sh (sets LENTA_TEST_POSTGRES).");
        }
        var name = $"lenta_test_{Guid.NewGuid():N}";
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        // Every test database gets its own pool (this helper's data sources and the servers' own), alive while its
        // class runs; Npgsql's default of 100 each let two bursty classes and a 300-write contract test pass the
        // cluster's max_connections ("53300: too many clients"). Twenty is more than any test runs at once, and a
        // burst beyond it waits for a connection instead of failing.
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true, MaxPoolSize = MaxPoolSize }.ConnectionString;
    }

    /// <summary>
    /// Makes database <paramref name="name"/> unreachable as an outage would: new connections refused, open ones ended
    /// (their next use fails). Only for a database of the test's own.
    /// </summary>
    public static Task RefuseConnectionsAsync(string name) =>
        AdminAsync($"ALTER DATABASE {name} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");

    public static Task AllowConnectionsAsync(string name) => AdminAsync($"ALTER DATABASE {name} ALLOW_CONNECTIONS true");

    private static async Task AdminAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(Admin ?? throw new InvalidOperationException("LENTA_TEST_POSTGRES is not set."));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
