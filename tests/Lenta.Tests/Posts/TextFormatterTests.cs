using Lenta.Server.Posts;

namespace Lenta.Tests.Posts;

/// <summary>Plain text to content HTML (as Mastodon renders it), including a corpus of things people type to inject markup.</summary>
public sealed class TextFormatterTests
{
    private static readonly MentionTarget Bob = new(42, "bob", "https://lenta.example/@bob");

    private static FormattedText Format(string text) =>
        TextFormatter.Format(text, (u, d) => u.Equals("bob", StringComparison.OrdinalIgnoreCase) && (d is null || d == "lenta.example") ? Bob : null, "https://lenta.example");

    [Fact]
    public void Mastodons_own_example_renders_the_same()
    {
        var f = Format("Hi @bob\nsee https://example.com/a/very/long/path/that/keeps/going #lenta\n\nbye");
        Assert.Equal(
            "<p>Hi <span class=\"h-card\" translate=\"no\"><a href=\"https://lenta.example/@bob\" class=\"u-url mention\">@<span>bob</span></a></span><br />see " +
            "<a href=\"https://example.com/a/very/long/path/that/keeps/going\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">https://</span>" +
            "<span class=\"ellipsis\">example.com/a/very/long/path/t</span><span class=\"invisible\">hat/keeps/going</span></a> " +
            "<a href=\"https://lenta.example/tags/lenta\" class=\"mention hashtag\" rel=\"tag\">#<span>lenta</span></a></p><p>bye</p>", f.Html);
        Assert.Equal([Bob], f.Mentions);
        Assert.Equal(["lenta"], f.Tags);
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("<img src=x onerror=alert(1)>")]
    [InlineData("\"><svg/onload=alert(1)>")]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("javascript:alert(1)")]
    [InlineData("https://example.com/\"><script>alert(1)</script>")]
    [InlineData("https://example.com/?q=<b>&x='y'")]
    [InlineData("#<b>tag</b> @<i>bob</i>")]
    [InlineData("&lt;script&gt; &amp; &#60;")]
    [InlineData("<style>*{display:none}</style><iframe src=//evil>")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("https://x.example/a\u0000<b>")]
    public void Nothing_typed_becomes_markup(string text)
    {
        var html = Format(text).Html;
        // Only our own tags may appear: p, br, a, span.
        var tags = System.Text.RegularExpressions.Regex.Matches(html, "<\\s*/?\\s*([a-zA-Z0-9]+)").Select(m => m.Groups[1].Value.ToLowerInvariant()).ToHashSet();
        Assert.Subset(new HashSet<string> { "p", "br", "a", "span" }, tags);
        Assert.DoesNotContain("javascript:", html.Replace("&#", "", StringComparison.Ordinal).Split("href=\"").Skip(1).Select(h => h.Split('"')[0]).FirstOrDefault() ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onerror=", html.Replace("onerror=x", "", StringComparison.Ordinal).Replace("&lt;", "", StringComparison.Ordinal).Contains("<img", StringComparison.Ordinal) ? html : "", StringComparison.Ordinal);
        foreach (var href in System.Text.RegularExpressions.Regex.Matches(html, "href=\"([^\"]*)\"").Select(m => m.Groups[1].Value))
            Assert.True(href.StartsWith("https://", StringComparison.Ordinal) || href.StartsWith("http://", StringComparison.Ordinal), href);
    }

    [Fact]
    public void Links_stop_at_trailing_punctuation_and_keep_balanced_parentheses()
    {
        Assert.Contains("href=\"https://example.com/a\"", Format("see https://example.com/a.").Html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://en.wikipedia.org/wiki/Foo_(bar)\"", Format("(https://en.wikipedia.org/wiki/Foo_(bar))").Html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://example.com/x\"", Format("(https://example.com/x)").Html, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_and_remote_mentions_and_emails_stay_text()
    {
        var f = Format("mail me: bob@example.com, ping @nobody and @bob@elsewhere.example");
        Assert.Empty(f.Mentions);
        Assert.DoesNotContain("<a", f.Html, StringComparison.Ordinal);
        Assert.Single(Format("@bob@lenta.example hi").Mentions);
    }

    [Fact]
    public void Hashtags_need_a_letter_and_urls_keep_their_fragments()
    {
        Assert.Empty(Format("#123 is a number").Tags);
        Assert.Equal(["café_2"], Format("#café_2!").Tags);
        var f = Format("https://example.com/page#section");
        Assert.Empty(f.Tags);
    }

    [Fact]
    public void Length_counts_graphemes_and_every_link_as_23()
    {
        Assert.Equal(5, TextFormatter.Length("héllo"));
        Assert.Equal(1, TextFormatter.Length("👩‍👩‍👧"));
        Assert.Equal(4 + 23, TextFormatter.Length("see https://example.com/a/very/long/path/that/keeps/going/and/going"));
    }

    [Fact]
    public void A_link_longer_than_8000_characters_counts_in_full()
    {
        var path = new string('a', TextFormatter.MaxLinkLength - "http://a.example/".Length);
        Assert.Equal(23, TextFormatter.Length("http://a.example/" + path));
        Assert.Equal(TextFormatter.MaxLinkLength + 1, TextFormatter.Length("http://a.example/" + path + "b"));
    }

    [Fact]
    public void Punctuation_after_a_link_is_trimmed_the_same_however_long_the_run()
    {
        Assert.Equal(23 + 40_000, TextFormatter.Length("http://a.example/" + new string(')', 40_000)));
        Assert.Equal(23 + 200_000, TextFormatter.Length("http://a.example/" + new string('.', 200_000)));
        Assert.Equal(1 + 23 + 2, TextFormatter.Length("(http://a.example/(x)))"));
        Assert.Equal(1 + 23 + 2, TextFormatter.Length("(http://a.example/x)."));
    }

    [Fact]
    public void Length_with_a_limit_agrees_with_the_exact_length_on_which_side_of_the_limit_a_text_is()
    {
        string[] parts = ["a", " ", "@al", "@al@b.example", "#tag", "http://a.example/x", "https://b.example/(y)", ".", ")", "é", "👩‍👩‍👧", "#http://c.example/", "@http://d.example/"];
        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(0, 30)).Select(_ => parts[random.Next(parts.Length)]));
            var limit = random.Next(0, 120);
            var exact = TextFormatter.Length(text);
            Assert.True(exact > limit == TextFormatter.Length(text, limit) > limit, $"'{text}' against {limit}");
            Assert.Equal(exact, TextFormatter.Length(text, exact));
        }
    }

    [Fact]
    public void Ascii_text_counts_one_per_character_with_a_line_break_of_any_kind_as_one()
    {
        Assert.Equal(3, TextFormatter.Length("a\r\nb"));
        Assert.Equal(3, TextFormatter.Length("a\rb"));
        Assert.Equal(8, TextFormatter.Length("tab\there"));
        Assert.Equal(2 + 23 + 1, TextFormatter.Length("\u0001 https://example.com/\u0002"));
        // Against Unicode's segmentation on random ASCII (controls included) without links.
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => (char)random.Next(0, 128)).ToArray()).Replace(':', ' ');
            var normalized = text.Replace("\r\n", "\n").Replace('\r', '\n');
            Assert.Equal(new System.Globalization.StringInfo(normalized).LengthInTextElements, TextFormatter.Length(text));
        }
    }

    [Fact]
    public void Blank_text_is_empty_content_and_paragraphs_follow_rails()
    {
        Assert.Equal("", Format("  \n ").Html);
        Assert.Equal("<p>a<br />b</p><p>c</p>", Format("a\r\nb\n\n\nc\n").Html);
    }
}
