using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NetVips;

namespace Lenta.Server.Media;

/// <summary>Pixel budgets: what an upload may declare, and what the stored original and preview may hold.</summary>
public sealed record PhotoLimits(long MaxInputPixels = 33_177_600, long OriginalMaxPixels = 8_294_400, long SmallMaxPixels = 230_400);

/// <summary>One written file. <paramref name="Extension"/> has no dot ("jpg", "png").</summary>
public sealed record ProcessedImage(string Path, string Extension, string ContentType, int Width, int Height, long Size);

/// <summary>What <see cref="PhotoProcessor.Process"/> wrote; <paramref name="SourceFormat"/> is what <see cref="PhotoProcessor.Sniff"/> found.</summary>
public sealed record PhotoResult(ProcessedImage Original, ProcessedImage Small, string Blurhash, string SourceFormat);

/// <summary>Input that can never become a photo (not an image, unsupported, too many pixels, truncated…). Message = the reason shown to the user.</summary>
public sealed class MediaRejectedException(string reason) : Exception(reason);

/// <summary>
/// Turns an untrusted upload into a clean photo: the format is taken from the bytes, the size from
/// the header before any pixel is decoded, then the image is decoded for real, turned upright,
/// downscaled and re-encoded with no metadata but its colour profile (so no GPS position, camera
/// serial or hidden payload survives), plus a small preview and its BlurHash.
/// </summary>
public static class PhotoProcessor
{
    /// <summary>libjpeg cannot write a side over 65,500 px; an image that long is a trap, not a photo.</summary>
    private const int MaxSide = 65_500;
    private const int JpegQuality = 85;
    private const int HeadLength = 128;

    private const string UnverifiedType =
        "File type of uploaded media could not be verified: only JPEG, PNG, GIF, WebP, HEIF and AVIF images are accepted";
    private const string Undecodable =
        "Image could not be decoded: the file is damaged, truncated or not really an image of its type";
    private const string HevcUndecodable =
        "HEIC image could not be decoded: this server cannot read HEVC-coded photos; please upload a JPEG";

    /// <summary>libvips loader base classes that may see uploads; each covers its file, buffer and source variants.</summary>
    private static readonly string[] AllowedLoaders =
        ["VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadNsgif", "VipsForeignLoadWebp", "VipsForeignLoadHeif"];

    private static readonly Lazy<bool> Hardened = new(BlockLoaders);

    /// <summary>The image format from the first bytes (magic numbers), never from a name: "jpeg", "png", "gif", "webp", "heif", "avif", or null.</summary>
    public static string? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "jpeg";
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "png";
        }
        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return "gif";
        }
        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return "webp";
        }
        if (head.Length >= 16 && head[4..8].SequenceEqual("ftyp"u8))
        {
            return HeifBrand(head);
        }
        return null;
    }

    /// <summary>Call once at start: blocks libvips loaders that are not for untrusted input, and every loader except jpeg/png/gif/webp/heif.</summary>
    public static void Harden() => _ = Hardened.Value;

    /// <summary>Reads inputPath, writes the re-encoded original and the small preview into outputFolder (file names original.&lt;ext&gt;, small.&lt;ext&gt;), returns what it wrote. Throws MediaRejectedException for bad input.</summary>
    public static PhotoResult Process(string inputPath, string outputFolder, PhotoLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Harden();

        var format = Sniff(ReadHead(inputPath)) ?? throw new MediaRejectedException(UnverifiedType);
        using var photo = Decode(inputPath, format, limits);
        var png = photo.HasAlpha();

        Directory.CreateDirectory(outputFolder);
        var original = Save(photo, outputFolder, "original", png);

        var (smallWidth, smallHeight) = Fit(photo.Width, photo.Height, limits.SmallMaxPixels);
        using var small = photo.ThumbnailImage(smallWidth, height: smallHeight, size: Enums.Size.Down);
        var smallImage = Save(small, outputFolder, "small", png);

        return new PhotoResult(original, smallImage, HashOf(small), format);
    }

    /// <summary>
    /// Reads inputPath like <see cref="Process"/> (sniffed, bounded, upright, metadata stripped) and writes one image of
    /// exactly width×height, cropped around the centre and scaled up if smaller, as Mastodon's avatar (400×400#) and
    /// header (1500×500#) styles do. Throws MediaRejectedException for bad input.
    /// </summary>
    public static ProcessedImage Crop(string inputPath, string outputFolder, string name, int width, int height, PhotoLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Harden();

        var format = Sniff(ReadHead(inputPath)) ?? throw new MediaRejectedException(UnverifiedType);
        using var photo = Decode(inputPath, format, limits);
        using var cropped = photo.ThumbnailImage(width, height: height, size: Enums.Size.Both, crop: Enums.Interesting.Centre);
        Directory.CreateDirectory(outputFolder);
        return Save(cropped, outputFolder, name, photo.HasAlpha());
    }

    private static bool BlockLoaders()
    {
        // Every loader off, then only ours back on (libvips sets the state on a class and all its
        // subclasses), then the untrusted ones off again in case one sits under an allowed class.
        Operation.Block("VipsForeignLoad", true);
        foreach (var loader in AllowedLoaders)
        {
            Operation.Block(loader, false);
        }
        NetVips.NetVips.BlockUntrusted = true;

        // Each upload is new, and the operation cache would hold input files open after they are
        // deleted, or answer a reused path with the image that was there before.
        Cache.Max = 0;
        return true;
    }

    private static byte[] ReadHead(string path)
    {
        using var file = File.OpenRead(path);
        var head = new byte[HeadLength];
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return head[..read];
    }

    /// <summary>
    /// The ISO BMFF ftyp box (ISO/IEC 14496-12): size, "ftyp", major brand, minor version, then
    /// compatible brands. HEIF brands come from ISO/IEC 23008-12, AVIF ones from the AV1 Image File
    /// Format. A specific major brand decides; behind the generic "mif1"/"msf1" (or an unrelated
    /// one) the compatible brands tell AVIF from HEIF.
    /// </summary>
    private static string? HeifBrand(ReadOnlySpan<byte> head)
    {
        var boxSize = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (boxSize < 16)
        {
            return null;
        }
        var box = head[..(int)Math.Min(boxSize, (uint)head.Length)];
        var major = Encoding.ASCII.GetString(box[8..12]);
        var found = BrandFormat(major);
        if (found is not null && major is not ("mif1" or "msf1"))
        {
            return found;
        }
        for (var offset = 16; offset + 4 <= box.Length; offset += 4)
        {
            var format = BrandFormat(Encoding.ASCII.GetString(box.Slice(offset, 4)));
            if (format == "avif")
            {
                return format;
            }
            found ??= format;
        }
        return found;
    }

    private static string? BrandFormat(string brand) => brand switch
    {
        "avif" or "avis" => "avif",
        "heic" or "heix" or "hevc" or "hevx" or "heim" or "heis" or "hevm" or "hevs" or "mif1" or "msf1" => "heif",
        _ => null,
    };

    /// <summary>
    /// Everything that touches the upload's bytes, ending with an upright, 8-bit sRGB (or grey)
    /// image in memory, at most OriginalMaxPixels, with no metadata but its ICC profile. Any libvips
    /// error in here is the input's fault; errors after it (writing files) are ours.
    /// </summary>
    private static Image Decode(string path, string format, PhotoLimits limits)
    {
        var images = new Stack<Image>();
        var hevc = false;
        Image Keep(Image image)
        {
            images.Push(image);
            return image;
        }

        try
        {
            var source = Keep(Load(path, format));
            // The libheif inside NetVips.Native is built with an AV1 decoder only, no HEVC one: the
            // header of an iPhone photo loads, its pixels do not, and the user deserves to know why.
            hevc = source.Contains("heif-compression") && source.Get("heif-compression") is "hevc";
            var (width, height) = (source.Width, source.Height);
            if ((long)width * height > limits.MaxInputPixels)
            {
                throw new MediaRejectedException(string.Create(CultureInfo.InvariantCulture,
                    $"Image is too large: {width}×{height} pixels, at most {limits.MaxInputPixels:N0}"));
            }
            if (Math.Max(width, height) > MaxSide)
            {
                throw new MediaRejectedException(string.Create(CultureInfo.InvariantCulture,
                    $"Image is too long: {width}×{height} pixels, at most {MaxSide:N0} on a side"));
            }

            // CMYK goes to sRGB through its own profile (libvips' CMYK one when it has none).
            // Not through colourspace, which thumbnail would use: libvips 8.18 leaves the sRGB
            // profile it attaches there pointing into a freed blob once the operation cache is
            // off, and saving such an image crashes the process.
            var rgb = source.Interpretation == Enums.Interpretation.Cmyk
                ? Keep(source.IccTransform("srgb", embedded: true, inputProfile: "cmyk", intent: Enums.Intent.Perceptual))
                : source;

            // Shrink before rotating: the loader streams (sequential access) and a 90° turn
            // needs the whole image, so it is done on the smaller copy in memory.
            var (boxWidth, boxHeight) = Fit(width, height, limits.OriginalMaxPixels);
            var resized = Keep(rgb.ThumbnailImage(boxWidth, height: boxHeight, size: Enums.Size.Down, noRotate: true, failOn: Enums.FailOn.Error));
            var decoded = Keep(Keep(ToEightBit(resized)).CopyMemory());
            return Finish(decoded);
        }
        catch (VipsException)
        {
            throw new MediaRejectedException(hevc ? HevcUndecodable : Undecodable);
        }
        finally
        {
            while (images.TryPop(out var image))
            {
                image.Dispose();
            }
        }
    }

    /// <summary>The loader is chosen by the sniffed format, never by libvips guessing, and fails on any decode error.</summary>
    private static Image Load(string path, string format)
    {
        const Enums.Access access = Enums.Access.Sequential;
        const Enums.FailOn failOn = Enums.FailOn.Error;
        return format switch
        {
            "jpeg" => Image.Jpegload(path, autorotate: false, access: access, failOn: failOn, revalidate: true),
            "png" => Image.Pngload(path, access: access, failOn: failOn, revalidate: true),
            "gif" => Image.Gifload(path, n: 1, page: 0, access: access, failOn: failOn, revalidate: true),
            "webp" => Image.Webpload(path, n: 1, page: 0, access: access, failOn: failOn, revalidate: true),
            "heif" or "avif" => Image.Heifload(path, n: 1, page: 0, thumbnail: false, access: access, failOn: failOn, revalidate: true),
            _ => throw new MediaRejectedException(UnverifiedType),
        };
    }

    /// <summary>16-bit (and any other odd encoding) to 8-bit sRGB or grey, the only thing JPEG and browsers agree on.</summary>
    private static Image ToEightBit(Image image)
    {
        if (image.Format == Enums.BandFormat.Uchar && image.Interpretation is Enums.Interpretation.Srgb or Enums.Interpretation.Bw)
        {
            return image.Copy();
        }
        var colourBands = image.Bands - (image.HasAlpha() ? 1 : 0);
        using var converted = image.Colourspace(colourBands < 3 ? Enums.Interpretation.Bw : Enums.Interpretation.Srgb);
        return converted.Cast(Enums.BandFormat.Uchar);
    }

    /// <summary>Drops an alpha band that hides nothing (so the photo can be a JPEG), turns it upright, and strips metadata.</summary>
    private static Image Finish(Image decoded)
    {
        using var opaque = decoded.HasAlpha() && IsOpaque(decoded)
            ? decoded.ExtractBand(0, n: decoded.Bands - 1)
            : decoded.Copy();
        using var upright = opaque.Autorot();
        // Savers are also told to keep only the ICC profile; removing the rest here as well means
        // no later save option can bring GPS, EXIF, XMP or IPTC back.
        return upright.Mutate(image =>
        {
            foreach (var name in image.GetFields())
            {
                if (name != "icc-profile-data")
                {
                    image.Remove(name);
                }
            }
        });
    }

    private static bool IsOpaque(Image image)
    {
        using var alpha = image.ExtractBand(image.Bands - 1);
        return alpha.Min() >= 255;
    }

    /// <summary>The largest size with the same aspect that holds at most maxPixels; never larger than the input.</summary>
    private static (int Width, int Height) Fit(int width, int height, long maxPixels)
    {
        if ((long)width * height <= maxPixels)
        {
            return (width, height);
        }
        var scale = Math.Sqrt(maxPixels / ((double)width * height));
        return (Math.Max(1, (int)(width * scale)), Math.Max(1, (int)(height * scale)));
    }

    private static ProcessedImage Save(Image image, string folder, string name, bool png)
    {
        var extension = png ? "png" : "jpg";
        var path = Path.Combine(folder, $"{name}.{extension}");
        if (png)
        {
            image.Pngsave(path, keep: Enums.ForeignKeep.Icc);
        }
        else
        {
            image.Jpegsave(path, q: JpegQuality, optimizeCoding: true, interlace: true, keep: Enums.ForeignKeep.Icc);
        }
        return new ProcessedImage(path, extension, png ? "image/png" : "image/jpeg", image.Width, image.Height, new FileInfo(path).Length);
    }

    private static string HashOf(Image small)
    {
        using var flat = small.HasAlpha() ? small.Flatten() : small.Copy();
        using var rgb = flat.Bands < 3 ? flat.Colourspace(Enums.Interpretation.Srgb) : flat.Copy();
        using var bytes = rgb.Format == Enums.BandFormat.Uchar ? rgb.Copy() : rgb.Cast(Enums.BandFormat.Uchar);
        return Blurhash.Encode(bytes.WriteToMemory<byte>(), bytes.Width, bytes.Height);
    }
}
