namespace Lenta.Server.Web;

/// <summary>The "missing" avatar and header every account shows until it has its own (plain PNGs shipped in the assembly).</summary>
public static class DefaultImages
{
    private static readonly byte[] Avatar = Load("missing-avatar.png");
    private static readonly byte[] Header = Load("missing-header.png");

    public static void Map(IEndpointRouteBuilder root)
    {
        root.MapGet("/avatars/original/missing.png", (HttpContext c) => Serve(c, Avatar));
        root.MapGet("/headers/original/missing.png", (HttpContext c) => Serve(c, Header));
    }

    private static IResult Serve(HttpContext context, byte[] png)
    {
        context.Response.Headers.CacheControl = "public, max-age=86400";
        return Results.Bytes(png, "image/png");
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(DefaultImages).Assembly.GetManifestResourceStream($"Lenta.Server.Web.Assets.{name}")
            ?? throw new InvalidOperationException($"Embedded asset {name} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
