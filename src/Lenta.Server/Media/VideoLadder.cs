namespace Lenta.Server.Media;

/// <summary>One planned rendition: the frame size and the peak video bitrate its CRF is capped at.</summary>
public sealed record PlannedRung(string Name, int Width, int Height, int MaxVideoBitrate, string Level, string Codecs);

/// <summary>
/// Pure planning of the HLS ladder. Rungs are named after the short side so a
/// portrait video gets the same ladder as a landscape one (720×1280 → "360p" 360×640 and "720p" 720×1280).
/// </summary>
public static class VideoLadder
{
    public const int AudioBitrate = 128_000;

    private static readonly (int ShortSide, int MaxVideoBitrate)[] Rungs = [(360, 1_000_000), (720, 3_000_000), (1080, 6_000_000)];

    /// <summary>(level, max frame size in macroblocks, max macroblocks per second, level_idc) for H.264 High, from ITU-T H.264 Table A-1.</summary>
    private static readonly (string Level, int MaxFs, int MaxMbps, int Idc)[] Levels =
    [
        ("3.0", 1620, 40_500, 30), ("3.1", 3600, 108_000, 31), ("3.2", 5120, 216_000, 32), ("4.0", 8192, 245_760, 40),
        ("4.2", 8704, 522_240, 42), ("5.1", 36_864, 983_040, 51), ("5.2", 36_864, 2_073_600, 52),
    ];

    public static IReadOnlyList<PlannedRung> Plan(int width, int height, double fps, bool hasAudio)
    {
        var shortSide = Math.Min(width, height);
        var planned = new List<PlannedRung>();
        foreach (var (side, bitrate) in Rungs)
        {
            if (side <= shortSide)
            {
                planned.Add(Rung($"{side}p", width, height, side, bitrate, fps, hasAudio));
            }
        }
        if (planned.Count == 0)
        {
            planned.Add(Rung($"{Rungs[0].ShortSide}p", width, height, Even(shortSide), Rungs[0].MaxVideoBitrate, fps, hasAudio));
        }
        return planned;
    }

    private static PlannedRung Rung(string name, int width, int height, int side, int bitrate, double fps, bool hasAudio)
    {
        var longSide = Even((int)Math.Round((double)Math.Max(width, height) * side / Math.Min(width, height)));
        var (w, h) = width >= height ? (longSide, side) : (side, longSide);
        var level = LevelFor(w, h, fps);
        // RFC 8216 §4.3.4.2: CODECS lists every format in the variant; avc1.PPCCLL with High profile (0x64), no constraints.
        var codecs = $"avc1.6400{level.Idc:x2}" + (hasAudio ? ",mp4a.40.2" : "");
        return new PlannedRung(name, w, h, bitrate, level.Level, codecs);
    }

    private static (string Level, int Idc) LevelFor(int width, int height, double fps)
    {
        var frameMbs = ((width + 15) / 16) * ((height + 15) / 16);
        var mbps = frameMbs * Math.Max(fps, 1);
        foreach (var (level, maxFs, maxMbps, idc) in Levels)
        {
            if (frameMbs <= maxFs && mbps <= maxMbps)
            {
                return (level, idc);
            }
        }
        return ("5.2", 52);
    }

    private static int Even(int n) => Math.Max(2, n - (n % 2));
}
