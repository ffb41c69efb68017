using NetVips;

namespace Lenta.Bench.Photos;

/// <summary>
/// Camera-sized JPEGs made with libvips: a smooth colour field (gradients and a tilted wave, different per
/// image) under lightly blurred Gaussian noise, so the encoder has real texture to code, as in a photo,
/// rather than flat areas it compresses to nothing.
/// </summary>
internal static class TestPhotos
{
    public const int Quality = 90;

    public static string[] Generate(string folder, int count, int width, int height, int parallel)
    {
        Directory.CreateDirectory(folder);
        var paths = Enumerable.Range(0, count).Select(i => Path.Combine(folder, $"photo-{i:D3}.jpg")).ToArray();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, i => Write(paths[i], i, width, height));
        return paths;
    }

    private static void Write(string path, int index, int width, int height)
    {
        using var xy = Image.Xyz(width, height);
        using var x = xy[0];
        using var y = xy[1];
        var angle = 15.0 * index;
        var period = 40.0 + 7 * (index % 11);
        using var red = x * (255.0 / width);
        using var green = y * (255.0 / height);
        using var phase = (x * Math.Cos(angle * Math.PI / 180) + y * Math.Sin(angle * Math.PI / 180)) * (360.0 / period);
        using var wave = phase.Sin();
        using var blue = wave * 100.0 + 128.0;
        using var clean = red.Bandjoin(green, blue);
        using var noise = Image.Gaussnoise(width, height, sigma: 28, mean: 0, seed: 3 * index)
            .Bandjoin(Image.Gaussnoise(width, height, sigma: 28, mean: 0, seed: 3 * index + 1),
                      Image.Gaussnoise(width, height, sigma: 28, mean: 0, seed: 3 * index + 2));
        using var texture = noise.Gaussblur(0.7);
        using var sum = clean + texture;
        using var pixels = sum.Cast(Enums.BandFormat.Uchar);
        using var srgb = pixels.Copy(interpretation: Enums.Interpretation.Srgb);
        srgb.Jpegsave(path, q: Quality);
    }
}
