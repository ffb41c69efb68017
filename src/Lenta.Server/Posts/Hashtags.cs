using System.Text.RegularExpressions;

namespace Lenta.Server.Posts;

/// <summary>
/// Mastodon's hashtag rules (app/models/tag.rb <c>HASHTAG_RE</c>, app/lib/hashtag_normalizer.rb): <c>#</c> after anything but a
/// letter, digit, <c>=</c>, <c>/</c> or <c>)</c>, then letters, marks, digits and underscores with at least one letter
/// (never all digits); a middle dot (·), katakana middle dot (・) or zero-width non-joiner may join two parts but never
/// ends a tag. A tag's name is folded (full-width letters and digits become ASCII, as Mastodon's NFKC step makes them) and in lower case, so <c>#Lenta</c>,
/// <c>#LENTA</c> and <c>#ｌｅｎｔａ</c> are one tag. Mastodon also folds Latin accents to ASCII (<c>#café</c> = <c>#cafe</c>);
/// Lenta keeps them apart, so no script loses letters (Cyrillic <c>й</c> is not <c>и</c>).
/// </summary>
public static partial class Hashtags
{
    private const string Word = @"\p{L}\p{M}\p{Nd}\p{Pc}";
    private const string Alpha = @"\p{L}\p{M}";
    private const string Separators = "_\u00B7\u30FB\u200C";

    /// <summary>The name as Mastodon's tag pattern takes it: a joined form (separators inside) or a plain word with a letter.</summary>
    private const string NamePattern =
        $"(?:[{Word}][{Word}{Separators}]*[{Alpha}{Separators}][{Word}{Separators}]*[{Word}])|(?:[{Word}]*[{Alpha}][{Word}]*)";

    /// <summary>A <c>#tag</c> in text; group 1 is the name as typed.</summary>
    [GeneratedRegex($@"(?<![=/)\p{{L}}\p{{M}}\p{{Nd}}\p{{Nl}}])#({NamePattern})")]
    internal static partial Regex InText();

    [GeneratedRegex($@"^(?:{NamePattern})$")]
    private static partial Regex WholeName();

    /// <summary>The tag's name (folded, lower case), or null when <paramref name="typed"/> (without <c>#</c>) is not a tag.</summary>
    public static string? Normalize(string? typed)
    {
        if (string.IsNullOrWhiteSpace(typed))
            return null;
        var trimmed = typed.Trim();
        if (trimmed.StartsWith('#'))
            trimmed = trimmed[1..];
        if (trimmed.Length is 0 or > 200)
            return null;
        var name = Fold(trimmed);
        return WholeName().IsMatch(name) ? name : null;
    }

    /// <summary>The folded start of a tag name as typed in a search (<c>#</c> optional), or null when it holds anything a tag cannot.</summary>
    public static string? Prefix(string? typed)
    {
        var trimmed = (typed ?? "").Trim().TrimStart('#');
        if (trimmed.Length is 0 or > 200)
            return null;
        var folded = Fold(trimmed);
        return Chars().IsMatch(folded) ? folded : null;
    }

    [GeneratedRegex($"^[{Word}{Separators}]+$")]
    private static partial Regex Chars();

    /// <summary>
    /// The name of a tag the text pattern already matched: full-width forms of ASCII (U+FF01–U+FF5E) made ASCII — the part of
    /// Mastodon's NFKC step that reaches tag characters in practice; the server runs with invariant globalization, whose
    /// <see cref="string.Normalize()"/> leaves other text as it is — then lower case (Unicode's simple case mapping).
    /// </summary>
    internal static string Fold(string name)
    {
        if (name.AsSpan().IndexOfAnyInRange('\uFF01', '\uFF5E') < 0)
            return name.ToLowerInvariant();
        return string.Create(name.Length, name, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                span[i] = char.ToLowerInvariant(source[i] is >= '\uFF01' and <= '\uFF5E' ? (char)(source[i] - 0xFEE0) : source[i]);
        });
    }
}
