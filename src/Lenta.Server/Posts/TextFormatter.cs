using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Lenta.Server.Posts;

/// <summary>A local account a mention resolved to.</summary>
public sealed record MentionTarget(long Id, string Username, string Url);

/// <summary>What formatting a post found and produced.</summary>
public sealed record FormattedText(string Html, IReadOnlyList<MentionTarget> Mentions, IReadOnlyList<string> Tags);

/// <summary>
/// Plain text to Mastodon <c>content</c> HTML (as Mastodon's TextFormatter, app/lib/text_formatter.rb, renders it): links, local
/// @mentions and #tags become anchors; every other character is HTML-escaped, so nothing a person types
/// can become markup; blank-line-separated blocks are paragraphs and single newlines <c>&lt;br /&gt;</c>.
/// </summary>
public static partial class TextFormatter
{
    public const int UrlLength = 23;

    /// <summary>
    /// Longest text taken as a link (and so counted as <see cref="UrlLength"/>): RFC 9110 §4.1 asks every HTTP party to
    /// carry URIs of at least 8000 octets, and no more; a longer "link" counts in full, so links cannot swell a post
    /// within the character limit past a few hundred kilobytes.
    /// </summary>
    public const int MaxLinkLength = 8000;

    private enum Kind
    {
        Url,
        Mention,
        Tag,
    }

    private readonly record struct Entity(Kind Kind, int Start, int Length, string Value, string? Domain);

    /// <summary>The usernames (with optional domain) the text mentions, to resolve before <see cref="Format"/>.</summary>
    public static IReadOnlyList<(string Username, string? Domain)> MentionedNames(string text) =>
        Lines(text).SelectMany(Entities).Where(e => e.Kind == Kind.Mention).Select(e => (e.Value, e.Domain)).Distinct().ToList();

    /// <param name="resolve">a local account for (username, domain), or null to leave the mention as text</param>
    public static FormattedText Format(string text, Func<string, string?, MentionTarget?> resolve, string baseUrl)
    {
        var mentions = new List<MentionTarget>();
        var tags = new List<string>();
        var normalized = Normalize(text);
        if (normalized.Trim().Length == 0)
            return new FormattedText("", mentions, tags);
        var html = new StringBuilder(normalized.Length * 2);
        foreach (var paragraph in Paragraphs().Split(normalized.Trim('\n')))
        {
            if (paragraph.Trim('\n').Length == 0)
                continue;
            html.Append("<p>");
            var lines = paragraph.Trim('\n').Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (i > 0)
                    html.Append("<br />");
                RenderLine(html, lines[i], resolve, baseUrl, mentions, tags);
            }
            html.Append("</p>");
        }
        return new FormattedText(html.ToString(), mentions.DistinctBy(m => m.Id).ToList(), tags.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Mastodon's length: grapheme clusters of the text, each link counting <see cref="UrlLength"/>. Past
    /// <paramref name="limit"/> it may stop early and return any number above it: every stretch the link pattern matches
    /// is first counted as if it were a link, which can only lower the count, and a text over the limit even so is
    /// answered without finding its mentions and tags (whose overlaps decide which stretches really are links). So a
    /// text far over the limit costs one pass of the link pattern, however many mentions it holds.
    /// </summary>
    public static int Length(string text, int limit = int.MaxValue)
    {
        var normalized = Normalize(text);
        var total = Graphemes(normalized);
        var lines = normalized.Split('\n');
        var atLeast = total;
        var anyLink = false;
        foreach (var line in lines)
        {
            foreach (Match m in Url().Matches(line))
            {
                anyLink = true;
                var url = TrimUrl(m.Value);
                if (url.Length <= MaxLinkLength)
                    atLeast -= Math.Max(0, Graphemes(url) - UrlLength);
            }
        }
        if (!anyLink || atLeast > limit)
            return atLeast;
        foreach (var line in lines)
        {
            foreach (var e in Entities(line).Where(e => e.Kind == Kind.Url))
                total += UrlLength - Graphemes(e.Value);
        }
        return total;
    }

    /// <summary>
    /// Grapheme clusters in <paramref name="s"/> (no CR in it: <see cref="Normalize"/> made them LF). In ASCII without CR
    /// every character is a cluster of its own (Unicode's rules join only CR LF there), so most posts need no segmentation.
    /// </summary>
    private static int Graphemes(string s) => System.Text.Ascii.IsValid(s) ? s.Length : new StringInfo(s).LengthInTextElements;

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');

    private static IEnumerable<string> Lines(string text) => Normalize(text).Split('\n');

    private static void RenderLine(StringBuilder html, string line, Func<string, string?, MentionTarget?> resolve, string baseUrl, List<MentionTarget> mentions, List<string> tags)
    {
        var at = 0;
        foreach (var e in Entities(line))
        {
            html.Append(WebUtility.HtmlEncode(line[at..e.Start]));
            var raw = line.Substring(e.Start, e.Length);
            switch (e.Kind)
            {
                case Kind.Url:
                    AppendLink(html, e.Value);
                    break;
                case Kind.Mention when resolve(e.Value, e.Domain) is { } target:
                    mentions.Add(target);
                    html.Append("<span class=\"h-card\" translate=\"no\"><a href=\"").Append(WebUtility.HtmlEncode(target.Url))
                        .Append("\" class=\"u-url mention\">@<span>").Append(WebUtility.HtmlEncode(target.Username)).Append("</span></a></span>");
                    break;
                case Kind.Tag:
                    // The link names the tag (its folded name, as the status's tags[].url); the text shows it as typed.
                    var name = Hashtags.Fold(e.Value);
                    tags.Add(name);
                    html.Append("<a href=\"").Append(WebUtility.HtmlEncode($"{baseUrl}/tags/{Uri.EscapeDataString(name)}"))
                        .Append("\" class=\"mention hashtag\" rel=\"tag\">#<span>").Append(WebUtility.HtmlEncode(e.Value)).Append("</span></a>");
                    break;
                default:
                    html.Append(WebUtility.HtmlEncode(raw));
                    break;
            }
            at = e.Start + e.Length;
        }
        html.Append(WebUtility.HtmlEncode(line[at..]));
    }

    private static void AppendLink(StringBuilder html, string url)
    {
        var prefix = LinkPrefix().Match(url).Value;
        var rest = url[prefix.Length..];
        var shown = rest.Length <= 31 ? rest : rest[..30];
        var hidden = rest[shown.Length..];
        html.Append("<a href=\"").Append(WebUtility.HtmlEncode(url)).Append("\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\">")
            .Append("<span class=\"invisible\">").Append(WebUtility.HtmlEncode(prefix)).Append("</span>")
            .Append("<span class=\"").Append(hidden.Length > 0 ? "ellipsis" : "").Append("\">").Append(WebUtility.HtmlEncode(shown)).Append("</span>")
            .Append("<span class=\"invisible\">").Append(WebUtility.HtmlEncode(hidden)).Append("</span></a>");
    }

    /// <summary>Links, mentions and tags of one line, left to right, never overlapping (a link wins over what is inside it).</summary>
    private static List<Entity> Entities(string line)
    {
        var found = new List<Entity>();
        foreach (Match m in Url().Matches(line))
        {
            var url = TrimUrl(m.Value);
            if (url.Length <= MaxLinkLength && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.Length > 0)
                found.Add(new Entity(Kind.Url, m.Index, url.Length, url, null));
        }
        foreach (Match m in Mention().Matches(line))
            found.Add(new Entity(Kind.Mention, m.Index, m.Length, m.Groups[1].Value, m.Groups[2].Success ? m.Groups[2].Value : null));
        foreach (Match m in Hashtags.InText().Matches(line))
            found.Add(new Entity(Kind.Tag, m.Index, m.Length, m.Groups[1].Value, null));
        var result = new List<Entity>();
        var end = 0;
        foreach (var e in found.OrderBy(e => e.Start).ThenBy(e => e.Kind))
        {
            if (e.Start < end)
                continue;
            result.Add(e);
            end = e.Start + e.Length;
        }
        return result;
    }

    /// <summary>
    /// Trailing punctuation ends a sentence, not the link; a closing parenthesis stays only when the link opened one.
    /// One pass to count and one to trim, so a link followed by any run of punctuation costs its length, never its square.
    /// </summary>
    private static string TrimUrl(string url)
    {
        var opened = 0;
        var closed = 0;
        foreach (var c in url)
        {
            if (c == '(')
                opened++;
            else if (c == ')')
                closed++;
        }
        var end = url.Length;
        while (end > 0)
        {
            var last = url[end - 1];
            if (".,:;!?'\"".Contains(last, StringComparison.Ordinal))
            {
                end--;
            }
            else if (last == ')' && opened < closed)
            {
                end--;
                closed--;
            }
            else
            {
                break;
            }
        }
        return end == url.Length ? url : url[..end];
    }

    [GeneratedRegex(@"https?://[^\s<>""\u0000-\u001f\u007f]+", RegexOptions.IgnoreCase)]
    private static partial Regex Url();

    [GeneratedRegex(@"(?<![\p{L}\p{N}_@/.])@([A-Za-z0-9_]+)(?:@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?))?(?![A-Za-z0-9_])")]
    private static partial Regex Mention();

    [GeneratedRegex(@"^https?://(www\.)?", RegexOptions.IgnoreCase)]
    private static partial Regex LinkPrefix();

    [GeneratedRegex(@"\n[ \t]*\n")]
    private static partial Regex Paragraphs();
}
