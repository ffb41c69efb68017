namespace Lenta.Server.Platform.Database;

/// <summary><c>Lenta__Database__*</c>: which relational engine holds the truth.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Lenta:Database";

    /// <summary><c>sqlite</c> (embedded default, a file under the data folder) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>For postgres: an Npgsql connection string. For sqlite: optional; default <c>Data Source={DataPath}/lenta.db</c>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>SQLite group commit: the most write units one transaction (one fsync) takes.</summary>
    public int MaxWriteBatch { get; set; } = 512;
}

public enum DbProvider
{
    Sqlite,
    Postgres,
}
