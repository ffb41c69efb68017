using System.Text;
using Lenta.Server.Media;
using NetVips;
using static Lenta.Tests.Media.TestImages;

namespace Lenta.Tests.Media;

/// <summary>
/// Real images made with libvips (and a few hostile files made by hand) through the whole
/// processor: what comes out must be upright, capped, clean of metadata, and every bad input
/// must end in a <see cref="MediaRejectedException"/>, never a crash.
/// </summary>
public sealed class PhotoProcessorTests : IDisposable
{
    private static readonly PhotoLimits Limits = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("lenta-photo-").FullName;
    private int _files;

    public PhotoProcessorTests() => PhotoProcessor.Harden();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // ---- sniffing ----

    [Theory]
    [InlineData("FF D8 FF E0 00 10 4A 46 49 46", "jpeg")]
    [InlineData("89 50 4E 47 0D 0A 1A 0A 00 00 00 0D", "png")]
    [InlineData("47 49 46 38 37 61 01 00", "gif")]
    [InlineData("47 49 46 38 39 61 01 00", "gif")]
    [InlineData("52 49 46 46 24 00 00 00 57 45 42 50 56 50 38 20", "webp")]
    [InlineData("00 00 00 18 66 74 79 70 68 65 69 63 00 00 00 00 6D 69 66 31 68 65 69 63", "heif")]
    [InlineData("00 00 00 1C 66 74 79 70 61 76 69 66 00 00 00 00 6D 69 66 31 61 76 69 66 6D 69 61 66", "avif")]
    [InlineData("00 00 00 18 66 74 79 70 6D 69 66 31 00 00 00 00 6D 69 66 31 61 76 69 66", "avif")]
    [InlineData("00 00 00 18 66 74 79 70 69 73 6F 38 00 00 00 00 6D 69 66 31 61 76 69 66", "avif")]
    [InlineData("00 00 00 18 66 74 79 70 69 73 6F 6D 00 00 02 00 69 73 6F 6D 6D 70 34 31", null)] // MP4 video
    [InlineData("00 00 00 08 66 74 79 70 61 76 69 66 00 00 00 00", null)] // ftyp box too short to be one
    [InlineData("52 49 46 46 24 00 00 00 57 41 56 45 66 6D 74 20", null)] // WAV
    [InlineData("42 4D 3A 00 00 00 00 00 00 00 36 00", null)] // BMP
    [InlineData("49 49 2A 00 08 00 00 00", null)] // TIFF
    [InlineData("3C 73 76 67 20 78 6D 6C 6E 73", null)] // <svg xmlns
    [InlineData("FF D8", null)]
    [InlineData("", null)]
    public void Sniff_reads_the_format_from_magic_numbers(string hex, string? expected) =>
        Assert.Equal(expected, PhotoProcessor.Sniff(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal))));

    // ---- good photos ----

    [Fact]
    public void Rotated_jpeg_with_gps_comes_out_upright_and_without_metadata()
    {
        // Stored sideways: red on the left, blue on the right; Orientation 6 says "turn 90° clockwise to view".
        using var sideways = Solid(100, 100, 220, 20, 20).Join(Solid(100, 100, 20, 20, 220), Enums.Direction.Horizontal);
        var jpeg = WithXmp(WithExif(sideways.JpegsaveBuffer(keep: Enums.ForeignKeep.None)));
        using (var input = Image.NewFromBuffer(jpeg))
        {
            Assert.Equal(6, (int)input.Get("orientation"));
            Assert.Contains("exif-ifd3-GPSLatitude", input.GetFields());
            Assert.Contains("xmp-data", input.GetFields());
        }

        var result = Process(jpeg);

        Assert.Equal("jpeg", result.SourceFormat);
        Assert.Equal(("jpg", "image/jpeg", 100, 200), (result.Original.Extension, result.Original.ContentType, result.Original.Width, result.Original.Height));
        using var output = Image.NewFromFile(result.Original.Path);
        Assert.Equal((100, 200), (output.Width, output.Height));
        Assert.True(Pixel(output, 50, 40)[0] > 180, "red is on top after turning clockwise");
        Assert.True(Pixel(output, 50, 160)[2] > 180, "blue is at the bottom");
        foreach (var path in new[] { result.Original.Path, result.Small.Path })
        {
            AssertNoMetadata(path);
        }
    }

    [Fact]
    public void Large_photo_is_capped_keeping_its_aspect_and_the_preview_is_small()
    {
        using var big = Gradient(6000, 4000);
        var result = Process(big.JpegsaveBuffer(q: 80));

        var (original, small) = (result.Original, result.Small);
        Assert.InRange((long)original.Width * original.Height, Limits.OriginalMaxPixels * 99 / 100, Limits.OriginalMaxPixels);
        Assert.InRange((long)small.Width * small.Height, Limits.SmallMaxPixels * 98 / 100, Limits.SmallMaxPixels);
        Assert.Equal(1.5, (double)original.Width / original.Height, 2);
        Assert.Equal(1.5, (double)small.Width / small.Height, 2);
        Assert.EndsWith("original.jpg", original.Path, StringComparison.Ordinal);
        Assert.EndsWith("small.jpg", small.Path, StringComparison.Ordinal);
        Assert.Equal(new FileInfo(original.Path).Length, original.Size);
        Assert.Equal(new FileInfo(small.Path).Length, small.Size);
        using var written = Image.NewFromFile(original.Path);
        Assert.Equal((original.Width, original.Height), (written.Width, written.Height));
    }

    [Fact]
    public void Small_photo_is_never_upscaled()
    {
        using var image = Gradient(300, 200);
        var result = Process(image.PngsaveBuffer());
        Assert.Equal((300, 200), (result.Original.Width, result.Original.Height));
        Assert.Equal((300, 200), (result.Small.Width, result.Small.Height));
    }

    [Fact]
    public void Colour_profile_is_kept()
    {
        using var plain = Gradient(120, 80);
        using var p3 = plain.IccTransform("p3", inputProfile: "srgb");
        var profile = (byte[])p3.Get("icc-profile-data");
        var result = Process(p3.JpegsaveBuffer());

        using var output = Image.NewFromFile(result.Original.Path);
        Assert.Equal(profile, (byte[])output.Get("icc-profile-data"));
        using var preview = Image.NewFromFile(result.Small.Path);
        Assert.Equal(profile, (byte[])preview.Get("icc-profile-data"));
    }

    [Fact]
    public void Png_with_transparency_stays_png_without_its_exif_and_an_opaque_alpha_becomes_jpeg()
    {
        using var colour = Solid(64, 64, 30, 160, 30);
        using var alpha = Image.Black(32, 64).Join(Image.Black(32, 64) + 255, Enums.Direction.Horizontal).Cast(Enums.BandFormat.Uchar);
        using var halfClear = colour.Bandjoin(alpha);
        using var located = halfClear.Mutate(image => image.Set(GValue.BlobType, "exif-data", Exif()));
        var png = located.PngsaveBuffer();
        using (var input = Image.NewFromBuffer(png))
        {
            Assert.Contains("exif-ifd3-GPSLatitude", input.GetFields());
        }

        var clear = Process(png);

        Assert.Equal(("png", "image/png"), (clear.Original.Extension, clear.Original.ContentType));
        Assert.Equal(("png", "image/png"), (clear.Small.Extension, clear.Small.ContentType));
        using (var output = Image.NewFromFile(clear.Original.Path))
        {
            Assert.True(output.HasAlpha());
            // Its EXIF says Orientation 6 too: the clear left half is now the top.
            Assert.Equal(0, Pixel(output, 60, 5)[3]);
            Assert.Equal(255, Pixel(output, 5, 60)[3]);
        }
        AssertNoMetadata(clear.Original.Path);
        AssertNoMetadata(clear.Small.Path);

        using var opaque = colour.Bandjoin(255);
        Assert.Equal("jpg", Process(opaque.PngsaveBuffer()).Original.Extension);
    }

    [Fact]
    public void Animated_gif_keeps_only_its_first_frame()
    {
        using var frames = Solid(40, 30, 250, 0, 0).Join(Solid(40, 30, 0, 0, 250), Enums.Direction.Vertical);
        using var animation = frames.Mutate(image =>
        {
            image.Set(GValue.GIntType, "page-height", 30);
            image.Set(GValue.ArrayIntType, "delay", new[] { 100, 100 });
        });
        var gif = animation.GifsaveBuffer();
        using (var input = Image.GifloadBuffer(gif, n: -1))
        {
            Assert.Equal(2, (int)input.Get("n-pages"));
        }

        var result = Process(gif);

        Assert.Equal("gif", result.SourceFormat);
        Assert.Equal((40, 30), (result.Original.Width, result.Original.Height));
        using var output = Image.NewFromFile(result.Original.Path);
        var pixel = Pixel(output, 20, 15);
        Assert.True(pixel[0] > 200 && pixel[2] < 50, "the first frame is red");
    }

    [Fact]
    public void Format_comes_from_the_bytes_not_the_name()
    {
        using var image = Gradient(50, 40);
        var result = Process(image.PngsaveBuffer(), name: "holiday.jpg");
        Assert.Equal("png", result.SourceFormat);
    }

    [Fact]
    public void Webp_and_avif_are_read()
    {
        using var image = Gradient(64, 48);
        Assert.Equal("webp", Process(image.WebpsaveBuffer()).SourceFormat);
        var avif = Process(image.HeifsaveBuffer(compression: Enums.ForeignHeifCompression.Av1));
        Assert.Equal(("avif", 64, 48), (avif.SourceFormat, avif.Original.Width, avif.Original.Height));
    }

    [Fact]
    public void Heic_is_decoded_or_refused_with_a_reason_that_names_it()
    {
        var heic = Heic;
        Assert.Equal("heif", PhotoProcessor.Sniff(heic));
        try
        {
            var result = Process(heic);
            Assert.Equal((64, 48), (result.Original.Width, result.Original.Height));
        }
        catch (MediaRejectedException e)
        {
            // The libheif bundled with NetVips.Native 8.18 has no HEVC decoder.
            Assert.StartsWith("HEIC image could not be decoded", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Grey_and_16_bit_images_come_out_8_bit()
    {
        using var grey = Image.Xyz(90, 60)[0].Cast(Enums.BandFormat.Uchar);
        var greyResult = Process(grey.JpegsaveBuffer());
        using (var output = Image.NewFromFile(greyResult.Original.Path))
        {
            Assert.Equal((1, Enums.BandFormat.Uchar), (output.Bands, output.Format));
        }
        Assert.Equal(28, greyResult.Blurhash.Length);

        using var colour = Gradient(90, 60);
        using var wide = (colour * 257).Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Rgb16);
        using var translucent = wide.Bandjoin(30_000).Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Rgb16);
        var rgba = Process(translucent.PngsaveBuffer(bitdepth: 16));
        using (var output = Image.NewFromFile(rgba.Original.Path))
        {
            Assert.Equal(("png", 4, Enums.BandFormat.Uchar), (rgba.Original.Extension, output.Bands, output.Format));
            Assert.InRange(Pixel(output, 10, 10)[3], 115, 118); // 30000 / 65535 of 255
        }

        using var grey16 = (grey * 257).Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Grey16);
        var grey16Result = Process(grey16.PngsaveBuffer(bitdepth: 16));
        using (var output = Image.NewFromFile(grey16Result.Original.Path))
        {
            Assert.Equal((1, Enums.BandFormat.Uchar), (output.Bands, output.Format));
        }
    }

    [Fact]
    public void Cmyk_jpeg_comes_out_as_srgb()
    {
        using var cmyk = (Image.Black(80, 60, bands: 4) + new double[] { 0, 200, 200, 0 }).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Cmyk);
        var result = Process(cmyk.JpegsaveBuffer());
        using var output = Image.NewFromFile(result.Original.Path);
        Assert.Equal((3, Enums.Interpretation.Srgb), (output.Bands, output.Interpretation));
        Assert.True(Pixel(output, 40, 30)[0] > 150, "cyan-free, magenta and yellow ink is red");
    }

    [Fact]
    public void Blurhash_is_a_4x3_hash_of_the_preview_and_stable()
    {
        using var image = Gradient(400, 300);
        var png = image.PngsaveBuffer();
        var first = Process(png).Blurhash;
        Assert.Equal(28, first.Length);
        Assert.Equal('L', first[0]);
        Assert.Equal(first, Process(png).Blurhash);
    }

    [Fact]
    public void Zip_hidden_after_a_jpeg_does_not_survive_reencoding()
    {
        using var image = Gradient(120, 90);
        var polyglot = image.JpegsaveBuffer().Concat(Zip("payload.txt", "SECRET-PAYLOAD-1234")).ToArray();
        Assert.Contains("SECRET-PAYLOAD-1234", Encoding.Latin1.GetString(polyglot), StringComparison.Ordinal);

        var result = Process(polyglot);

        foreach (var path in new[] { result.Original.Path, result.Small.Path })
        {
            var bytes = Encoding.Latin1.GetString(File.ReadAllBytes(path));
            Assert.DoesNotContain("PK\u0003\u0004", bytes, StringComparison.Ordinal);
            Assert.DoesNotContain("payload.txt", bytes, StringComparison.Ordinal);
            Assert.DoesNotContain("SECRET-PAYLOAD", bytes, StringComparison.Ordinal);
        }
    }

    // ---- hostile input ----

    public static TheoryData<string, string> HostileFiles => new()
    {
        { "empty", "could not be verified" },
        { "text", "could not be verified" },
        { "html", "could not be verified" },
        { "svg", "could not be verified" },
        { "bmp", "could not be verified" },
        { "tiff", "could not be verified" },
        { "png bomb", "too large: 100000×100000 pixels, at most 33,177,600" },
        { "jpeg bomb", "too large: 60000×60000 pixels" },
        { "gif bomb", "too large: 65535×65535 pixels" },
        { "70000 px wide", "too long: 70000×10 pixels" },
        { "truncated jpeg", "could not be decoded" },
        { "corrupt png", "could not be decoded" },
        { "jpeg header only", "could not be decoded" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void Hostile_file_is_rejected_with_a_reason(string kind, string reason)
    {
        var output = Path.Combine(_folder, "out-" + kind.Replace(' ', '-'));
        var error = Assert.Throws<MediaRejectedException>(() => PhotoProcessor.Process(Write(Hostile(kind)), output, Limits));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), "nothing is written for a rejected file");
        using var fine = Gradient(40, 30);
        Assert.Equal(40, Process(fine.JpegsaveBuffer()).Original.Width); // libvips and the process are fine after it
    }

    [Fact]
    public void Harden_blocks_svg_tiff_vips_and_other_loaders_outright()
    {
        var svg = Encoding.UTF8.GetBytes("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><script>alert(1)</script></svg>");
        Assert.Throws<VipsException>(() => Image.SvgloadBuffer(svg));
        Assert.Throws<VipsException>(() => Image.NewFromBuffer(svg));
        using var image = Gradient(10, 10);
        var tiff = image.TiffsaveBuffer();
        Assert.Throws<VipsException>(() => Image.TiffloadBuffer(tiff));
        Assert.Throws<VipsException>(() => Image.NewFromBuffer(tiff));
        var vips = Path.Combine(_folder, "raw.v");
        image.Vipssave(vips);
        Assert.Throws<VipsException>(() => Image.Vipsload(vips));
        Assert.Throws<VipsException>(() => Image.NewFromFile(vips));
        using var stillFine = Image.NewFromBuffer(image.JpegsaveBuffer());
        Assert.Equal(10, stillFine.Width);
    }

    // ---- helpers ----

    private PhotoResult Process(byte[] bytes, string name = "upload") =>
        PhotoProcessor.Process(Write(bytes, name), Path.Combine(_folder, $"out-{_files}"), Limits);

    private string Write(byte[] bytes, string name = "upload")
    {
        var path = Path.Combine(_folder, $"{++_files}-{name}");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static double[] Pixel(Image image, int x, int y) => image.Getpoint(x, y);

    private static void AssertNoMetadata(string path)
    {
        using var image = Image.NewFromFile(path);
        var fields = image.GetFields();
        Assert.DoesNotContain(fields, f => f.StartsWith("exif", StringComparison.Ordinal));
        Assert.DoesNotContain(fields, f => f is "xmp-data" or "iptc-data" or "orientation");
        var bytes = Encoding.Latin1.GetString(File.ReadAllBytes(path));
        foreach (var trace in new[] { "Exif", "GPS", "http://ns.adobe.com", "xmpmeta", "Photoshop" })
        {
            Assert.DoesNotContain(trace, bytes, StringComparison.Ordinal);
        }
    }

}
