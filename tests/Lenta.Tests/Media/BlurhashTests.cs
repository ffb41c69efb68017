using Lenta.Server.Media;

namespace Lenta.Tests.Media;

/// <summary>Golden values from the reference encoders of github.com/woltapp/blurhash (its C encoder and the npm package agree on these).</summary>
public sealed class BlurhashTests
{
    private static byte[] Pixels(int width, int height, Func<int, int, (int R, int G, int B)> colour)
    {
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = colour(x, y);
                var i = ((y * width) + x) * 3;
                (rgb[i], rgb[i + 1], rgb[i + 2]) = ((byte)r, (byte)g, (byte)b);
            }
        }
        return rgb;
    }

    [Fact]
    public void Black_is_the_well_known_hash() =>
        Assert.Equal("L00000fQfQfQfQfQfQfQfQfQfQfQ", Blurhash.Encode(new byte[8 * 8 * 3], 8, 8));

    [Fact]
    public void Gradient_matches_the_reference_encoder()
    {
        var rgb = Pixels(32, 24, (x, y) => (x * 8, 255 - (y * 10), x * y % 256));
        Assert.Equal("L;H2[V6^wtX4q2X4jvf+gYflfTfi", Blurhash.Encode(rgb, 32, 24));
    }

    [Fact]
    public void Hard_edge_matches_the_reference_encoder()
    {
        var rgb = Pixels(32, 24, (x, _) => x < 16 ? (250, 125, 5) : (5, 2, 250));
        Assert.Equal("L~LA*a}fskJFsqoIjsa}fQfQfQfQ", Blurhash.Encode(rgb, 32, 24));
    }

    [Fact]
    public void Buffer_of_the_wrong_size_is_refused() =>
        Assert.Throws<ArgumentException>(() => Blurhash.Encode(new byte[10], 2, 2));
}
