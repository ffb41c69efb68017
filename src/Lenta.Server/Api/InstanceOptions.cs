namespace Lenta.Server.Api;

/// <summary><c>Lenta__Instance__*</c>: what <c>/api/v1/instance</c> and <c>/api/v2/instance</c> tell clients.</summary>
public sealed class InstanceOptions
{
    public const string Section = "Lenta:Instance";

    public string Title { get; set; } = "Lenta";

    public string Description { get; set; } = "A Lenta social network server.";

    public string ContactEmail { get; set; } = "";

    /// <summary>Where the server's source code is published (<c>source_url</c>).</summary>
    public string SourceUrl { get; set; } = "";

    public bool RegistrationsOpen { get; set; } = true;

    /// <summary>Most characters in a post (the Posts module enforces it).</summary>
    public int MaxCharacters { get; set; } = 500;

    public int MaxMediaAttachments { get; set; } = 4;
}
