namespace Lenta.Server.Platform.Hosting;

/// <summary>Process-wide settings: <c>Lenta__Roles</c>, <c>Lenta__DataPath</c>, <c>Lenta__NodeId</c>.</summary>
public sealed class LentaOptions
{
    public const string Section = "Lenta";

    /// <summary>Comma-separated roles: <c>all</c>, or any of <c>read-api</c>, <c>write-api</c>, <c>worker</c>.</summary>
    public string Roles { get; set; } = "all";

    /// <summary>The one folder holding all local state (SQLite file, object folders).</summary>
    public string DataPath { get; set; } = "./data";

    /// <summary>This process's node number (0–1023), part of every id it generates; unique per running process.</summary>
    public int NodeId { get; set; }

    /// <summary>The externally visible base URL (for links); empty = taken from each request.</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>
    /// Comma-separated addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/8</c>) of the reverse proxies in front of
    /// this process. Only a request arriving from one of them has its <c>X-Forwarded-For</c> (the client's address,
    /// for rate limits and sign-in throttles) and <c>X-Forwarded-Proto</c> (the scheme of links) believed; empty = none.
    /// </summary>
    public string TrustedProxies { get; set; } = "";

    /// <summary>Console log format: <c>json</c> (structured) or <c>text</c>.</summary>
    public string LogFormat { get; set; } = "json";

    /// <summary>Exposes the /_diag endpoints that tests use to drive the job queue. Never on in production.</summary>
    public bool Diagnostics { get; set; }
}

[Flags]
public enum ServerRoles
{
    None = 0,
    ReadApi = 1,
    WriteApi = 2,
    Worker = 4,
    All = ReadApi | WriteApi | Worker,
}

public static class RoleParser
{
    public static bool TryParse(string? text, out ServerRoles roles, out string? bad)
    {
        roles = ServerRoles.None;
        bad = null;
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (part.ToLowerInvariant())
            {
                case "all": roles |= ServerRoles.All; break;
                case "read-api": roles |= ServerRoles.ReadApi; break;
                case "write-api": roles |= ServerRoles.WriteApi; break;
                case "worker": roles |= ServerRoles.Worker; break;
                default: bad = part; return false;
            }
        }
        if (roles == ServerRoles.None)
        {
            bad = text ?? "";
            return false;
        }
        return true;
    }
}
