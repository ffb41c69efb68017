using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using NetVips;

namespace Lenta.Tests.Media;

/// <summary>Images for the photo tests: real ones drawn with libvips, and hostile files built byte by byte.</summary>
internal static class TestImages
{
    /// <summary>A 64×48 HEIC made by libheif's heif-enc with x265 (HEVC), as phones write them.</summary>
    public static byte[] Heic => Convert.FromBase64String(HeicBase64);

    private const string HeicBase64 =
        "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAeRtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAA"
        + "AA5waXRtAAAAAAACAAAAEGlkYXQAAAAAAEAAMAAAAExpbG9jAQAAAERAAAMAAQAAAAAAAAIIAAEAAAAAAAAAHQACAAEAAAAAAAAA"
        + "AQAAAAAAAAAIAAMAAAAAAAACJQABAAAAAAAAALgAAABNaWluZgAAAAAAAwAAABVpbmZlAgAAAQABAABodmMxAAAAABVpbmZlAgAA"
        + "AAACAABncmlkAAAAABVpbmZlAgAAAQADAABFeGlmAAAAANhpcHJwAAAAtmlwY28AAAB2aHZjQwEDcAAAAAAAAAAAAB7wAPz9+PgA"
        + "AA8DIAABABhAAQwB//8DcAAAAwCQAAADAAADAB66AkAhAAEAKkIBAQNwAAADAJAAAAMAAAMAHqAggQWW6uSmubgQEDAgAAADACAA"
        + "AAMAISIAAQAGRAHBc8CJAAAAFGlzcGUAAAAAAAAAQAAAAEAAAAAUaXNwZQAAAAAAAABAAAAAMAAAABBwaXhpAAAAAAMICAgAAAAa"
        + "aXBtYQAAAAAAAAACAAECgQIAAgIDhAAAAChpcmVmAAAAAAAAAA5kaW1nAAIAAQABAAAADmNkc2MAAwABAAIAAADdbWRhdAAAABko"
        + "Aa8TgPgQ4af/yyj/+2v1f+9AK/OikM+AAAAAAElJKgAIAAAABgASAQMAAQAAAAEAAAAaAQUAAQAAAFYAAAAbAQUAAQAAAF4AAAAo"
        + "AQMAAQAAAAIAAAATAgMAAQAAAAEAAABphwQAAQAAAGYAAAAAAAAAOGMAAOgDAAA4YwAA6AMAAAYAAJAHAAQAAAAwMjEwAZEHAAQA"
        + "AAABAgMAAKAHAAQAAAAwMTAwAaADAAEAAAD//wAAAqAEAAEAAABAAAAAA6AEAAEAAAAwAAAAAAAAAA==";

    public static byte[] Hostile(string kind)
    {
        switch (kind)
        {
            case "empty":
                return [];
            case "text":
                return Encoding.UTF8.GetBytes("just some words, not a picture\n");
            case "html":
                return Encoding.UTF8.GetBytes("<!DOCTYPE html><html><body><script>fetch('/api/v1/accounts')</script></body></html>");
            case "svg":
                return Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"100\"><script>alert(document.cookie)</script><rect width=\"100\" height=\"100\"/></svg>");
            case "bmp":
                return Bmp();
            case "tiff":
                {
                    using var image = Gradient(20, 20);
                    return image.TiffsaveBuffer();
                }
            case "png bomb":
                return PngBomb(100_000, 100_000);
            case "jpeg bomb":
                {
                    using var image = Gradient(16, 16);
                    var jpeg = image.JpegsaveBuffer();
                    var sof = IndexOf(jpeg, [0xFF, 0xC0]);
                    BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), 60_000);
                    BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), 60_000);
                    return jpeg;
                }
            case "gif bomb":
                return GifBomb();
            case "70000 px wide":
                {
                    using var image = Image.Black(70_000, 10);
                    return image.PngsaveBuffer();
                }
            case "truncated jpeg":
                {
                    using var image = Noise(400, 300);
                    var jpeg = image.JpegsaveBuffer();
                    return jpeg[..(jpeg.Length * 6 / 10)];
                }
            case "corrupt png":
                {
                    using var image = Noise(100, 100);
                    var png = image.PngsaveBuffer();
                    var idat = IndexOf(png, "IDAT"u8.ToArray());
                    for (var i = idat + 40; i < idat + 240; i++)
                    {
                        png[i] ^= 0x5A;
                    }
                    return png;
                }
            case "jpeg header only":
                {
                    using var image = Gradient(64, 64);
                    var jpeg = image.JpegsaveBuffer();
                    return jpeg[..(IndexOf(jpeg, [0xFF, 0xDA]) + 4)];
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    public static Image Solid(int width, int height, double r, double g, double b)
    {
        using var black = Image.Black(width, height);
        using var colour = black + new[] { r, g, b };
        return colour.Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
    }

    /// <summary>Smooth colours: cheap to encode even at 24 megapixels.</summary>
    public static Image Gradient(int width, int height)
    {
        using var xy = Image.Xyz(width, height);
        using var x = xy[0] * (255.0 / width);
        using var y = xy[1] * (255.0 / height);
        using var bands = x.Bandjoin(y, (x + y) / 2);
        return bands.Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
    }

    public static Image Noise(int width, int height)
    {
        using var noise = Image.Gaussnoise(width, height, sigma: 60, mean: 128);
        using var bands = noise.Bandjoin(noise, noise);
        return bands.Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
    }

    /// <summary>Puts <see cref="Exif"/> into an APP1 segment right after SOI.</summary>
    public static byte[] WithExif(byte[] jpeg) => Insert(jpeg, App1([], Exif()));

    /// <summary>
    /// An EXIF block (CIPA DC-008) as libvips keeps it in "exif-data": "Exif\0\0", then IFD0 with
    /// Orientation = 6 and a pointer to a GPS IFD holding GPSLatitudeRef "N" and GPSLatitude
    /// 48° 51' 24". Little-endian TIFF layout.
    /// </summary>
    public static byte[] Exif()
    {
        var tiff = new byte[92];
        var s = tiff.AsSpan();
        "II"u8.CopyTo(s);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], 42);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], 8);
        // IFD0 at 8: two entries, next IFD none.
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], 2);
        Entry(s[10..], tag: 0x0112, type: 3, count: 1, value: 6); // Orientation SHORT
        Entry(s[22..], tag: 0x8825, type: 4, count: 1, value: 38); // GPSInfo LONG -> offset 38
        // GPS IFD at 38: two entries, next IFD none, rationals at 68.
        BinaryPrimitives.WriteUInt16LittleEndian(s[38..], 2);
        Entry(s[40..], tag: 0x0001, type: 2, count: 2, value: 'N'); // GPSLatitudeRef ASCII "N\0"
        Entry(s[52..], tag: 0x0002, type: 5, count: 3, value: 68); // GPSLatitude RATIONAL[3]
        uint[] rationals = [48, 1, 51, 1, 24, 1];
        for (var i = 0; i < rationals.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s[(68 + (i * 4))..], rationals[i]);
        }
        return [.. "Exif\0\0"u8, .. tiff];

        static void Entry(Span<byte> at, ushort tag, ushort type, uint count, uint value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(at, tag);
            BinaryPrimitives.WriteUInt16LittleEndian(at[2..], type);
            BinaryPrimitives.WriteUInt32LittleEndian(at[4..], count);
            if (type == 3)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(at[8..], (ushort)value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(at[8..], value);
            }
        }
    }

    public static byte[] WithXmp(byte[] jpeg)
    {
        const string xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
            + "<rdf:Description xmlns:exif='http://ns.adobe.com/exif/1.0/' exif:GPSLatitude='48,51.4N' exif:GPSLongitude='2,21.1E'/>"
            + "</rdf:RDF></x:xmpmeta>";
        return Insert(jpeg, App1("http://ns.adobe.com/xap/1.0/\0"u8.ToArray(), Encoding.UTF8.GetBytes(xmp)));
    }

    private static byte[] App1(byte[] header, byte[] body)
    {
        var segment = new byte[4 + header.Length + body.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + header.Length + body.Length));
        header.CopyTo(segment, 4);
        body.CopyTo(segment, 4 + header.Length);
        return segment;
    }

    /// <summary>Puts a marker segment right after SOI.</summary>
    private static byte[] Insert(byte[] jpeg, byte[] segment) => [.. jpeg[..2], .. segment, .. jpeg[2..]];

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    public static byte[] Zip(string name, string content)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
            using var writer = new StreamWriter(entry.Open());
            writer.Write(content);
        }
        return buffer.ToArray();
    }

    /// <summary>A 2×2 24-bit BMP: "BM" file header, BITMAPINFOHEADER, two padded rows.</summary>
    private static byte[] Bmp()
    {
        var bmp = new byte[14 + 40 + 16];
        var s = bmp.AsSpan();
        "BM"u8.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[2..], bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(s[10..], 54);
        BinaryPrimitives.WriteInt32LittleEndian(s[14..], 40);
        BinaryPrimitives.WriteInt32LittleEndian(s[18..], 2);
        BinaryPrimitives.WriteInt32LittleEndian(s[22..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(s[26..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(s[28..], 24);
        return bmp;
    }

    /// <summary>A valid PNG signature, IHDR declaring width × height RGB with a correct CRC, and a tiny IDAT.</summary>
    private static byte[] PngBomb(int width, int height)
    {
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // truecolour
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(new byte[4096]);
        }
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        return [.. signature, .. Chunk("IHDR", header), .. Chunk("IDAT", compressed.ToArray()), .. Chunk("IEND", [])];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    /// <summary>The CRC-32 of the PNG spec (ISO 3309, polynomial 0xEDB88320).</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>GIF89a whose logical screen and only image claim 65535×65535, with one byte of LZW data.</summary>
    private static byte[] GifBomb()
    {
        byte[] gif =
        [
            .. "GIF89a"u8, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, // screen 65535×65535, 2-colour global table
            0, 0, 0, 255, 255, 255,
            0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, // image descriptor 65535×65535
            0x02, 0x02, 0x44, 0x01, 0x00, // LZW min code 2, one sub-block
            0x3B,
        ];
        return gif;
    }
}
