using System.Text;

namespace Lenta.Server.Media;

/// <summary>
/// BlurHash encoder, written from the algorithm of github.com/woltapp/blurhash (Algorithm.md and
/// its C encoder, which Mastodon uses through the blurhash gem): a DCT of the linear-light image,
/// the DC term as sRGB, the AC terms quantised to 19 levels, all in base 83.
/// </summary>
internal static class Blurhash
{
    private const string Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

    private static readonly double[] SrgbToLinear = BuildSrgbToLinear();

    /// <summary>Hash of packed 8-bit RGB pixels (3 bytes a pixel, rows without padding).</summary>
    public static string Encode(ReadOnlySpan<byte> rgb, int width, int height, int componentsX = 4, int componentsY = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (componentsX is < 1 or > 9 || componentsY is < 1 or > 9)
        {
            throw new ArgumentOutOfRangeException(nameof(componentsX), "BlurHash takes 1 to 9 components on each axis.");
        }
        if (rgb.Length != (long)width * height * 3)
        {
            throw new ArgumentException("The pixel buffer does not match width × height × 3.", nameof(rgb));
        }

        var cosX = CosineTable(componentsX, width);
        var cosY = CosineTable(componentsY, height);

        // The basis is separable: sum each row against the X cosines once, then fold rows into
        // the Y cosines, which costs width × height × componentsX instead of × componentsX × componentsY.
        var factors = new double[componentsY * componentsX * 3];
        var row = new double[componentsX * 3];
        for (var y = 0; y < height; y++)
        {
            Array.Clear(row);
            var pixels = rgb.Slice(y * width * 3, width * 3);
            for (var x = 0; x < width; x++)
            {
                var r = SrgbToLinear[pixels[x * 3]];
                var g = SrgbToLinear[pixels[(x * 3) + 1]];
                var b = SrgbToLinear[pixels[(x * 3) + 2]];
                for (var i = 0; i < componentsX; i++)
                {
                    var basis = cosX[(i * width) + x];
                    row[i * 3] += basis * r;
                    row[(i * 3) + 1] += basis * g;
                    row[(i * 3) + 2] += basis * b;
                }
            }
            for (var j = 0; j < componentsY; j++)
            {
                var basis = cosY[(j * height) + y];
                for (var k = 0; k < componentsX * 3; k++)
                {
                    factors[(j * componentsX * 3) + k] += basis * row[k];
                }
            }
        }

        var pixelCount = (double)width * height;
        for (var k = 0; k < factors.Length; k++)
        {
            var normalisation = k < 3 ? 1.0 : 2.0;
            factors[k] *= normalisation / pixelCount;
        }

        var hash = new StringBuilder(6 + ((factors.Length / 3) - 1) * 2);
        Append(hash, (componentsX - 1) + ((componentsY - 1) * 9), 1);

        var maximum = 1.0;
        if (factors.Length > 3)
        {
            var actualMaximum = 0.0;
            for (var k = 3; k < factors.Length; k++)
            {
                actualMaximum = Math.Max(actualMaximum, Math.Abs(factors[k]));
            }
            var quantisedMaximum = (int)Math.Clamp(Math.Floor((actualMaximum * 166) - 0.5), 0, 82);
            maximum = (quantisedMaximum + 1) / 166.0;
            Append(hash, quantisedMaximum, 1);
        }
        else
        {
            Append(hash, 0, 1);
        }

        Append(hash, (LinearToSrgb(factors[0]) << 16) + (LinearToSrgb(factors[1]) << 8) + LinearToSrgb(factors[2]), 4);
        for (var k = 3; k < factors.Length; k += 3)
        {
            var value = (QuantiseAc(factors[k], maximum) * 19 * 19) + (QuantiseAc(factors[k + 1], maximum) * 19) + QuantiseAc(factors[k + 2], maximum);
            Append(hash, value, 2);
        }
        return hash.ToString();
    }

    private static double[] CosineTable(int components, int size)
    {
        var table = new double[components * size];
        for (var c = 0; c < components; c++)
        {
            for (var p = 0; p < size; p++)
            {
                table[(c * size) + p] = Math.Cos(Math.PI * c * p / size);
            }
        }
        return table;
    }

    private static double[] BuildSrgbToLinear()
    {
        var table = new double[256];
        for (var value = 0; value < 256; value++)
        {
            var v = value / 255.0;
            table[value] = v <= 0.04045 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);
        }
        return table;
    }

    private static int LinearToSrgb(double value)
    {
        var v = Math.Clamp(value, 0, 1);
        return v <= 0.0031308 ? (int)((v * 12.92 * 255) + 0.5) : (int)((((1.055 * Math.Pow(v, 1 / 2.4)) - 0.055) * 255) + 0.5);
    }

    private static int QuantiseAc(double value, double maximum)
    {
        var scaled = value / maximum;
        var signedRoot = Math.CopySign(Math.Sqrt(Math.Abs(scaled)), scaled);
        return (int)Math.Clamp(Math.Floor((signedRoot * 9) + 9.5), 0, 18);
    }

    private static void Append(StringBuilder hash, int value, int length)
    {
        var divisor = 1;
        for (var i = 1; i < length; i++)
        {
            divisor *= 83;
        }
        for (var i = 0; i < length; i++)
        {
            hash.Append(Digits[value / divisor % 83]);
            divisor /= 83;
        }
    }
}
