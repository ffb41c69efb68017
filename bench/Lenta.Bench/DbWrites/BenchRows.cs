using Lenta.Server.Platform.Database;

namespace Lenta.Bench.DbWrites;

/// <summary>The row every case inserts: shaped like a status (time-ordered 64-bit id, author, timestamp, a tweet of text).</summary>
internal static class BenchRows
{
    public const string Insert = "INSERT INTO lenta_bench_rows (id, author_id, created_at, body) VALUES (@id, @author, @at, @body)";

    public const string Body =
        "Лента benchmark row: about as long as a short post, so each insert writes a realistic page share. "
        + "The quick brown fox jumps over the lazy dog.";

    /// <summary>The same <c>{pk}</c> token Lenta's migrations use, so SQLite gets its rowid alias as real tables do.</summary>
    public static string CreateTable(DbProvider provider) => Sql.Expand(
        "CREATE TABLE lenta_bench_rows (id {pk}, author_id BIGINT NOT NULL, created_at BIGINT NOT NULL, body TEXT NOT NULL)", provider);

    public static object Args(long id) => new { id, author = id % 1000, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), body = Body };
}
