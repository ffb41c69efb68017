using System.Net;
using System.Text;

namespace Lenta.Server.Api;

/// <summary>Plain text as Mastodon HTML: every character escaped, blank-line-separated paragraphs, single newlines as <c>&lt;br /&gt;</c>.</summary>
public static class HtmlText
{
    public static string FromPlain(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return "";
        var normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Trim('\n');
        var sb = new StringBuilder(normalized.Length + 16);
        foreach (var paragraph in normalized.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var trimmed = paragraph.Trim('\n');
            if (trimmed.Length == 0)
                continue;
            sb.Append("<p>");
            var lines = trimmed.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (i > 0)
                    sb.Append("<br />");
                sb.Append(WebUtility.HtmlEncode(lines[i]));
            }
            sb.Append("</p>");
        }
        return sb.ToString();
    }

    /// <summary>One line of text, escaped (profile field values).</summary>
    public static string Inline(string text) => WebUtility.HtmlEncode(text);
}
