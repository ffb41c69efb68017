using System.Text;

namespace Lenta.Bench.Social;

/// <summary>
/// Post bodies shaped like DeathStarBench's compose-post: 350–780 characters of words, with 1–3 mentions of people the
/// author follows and 0–2 links, as the wrk2 script writes them.
/// </summary>
public static class PostTexts
{
    private static readonly string[] Words =
    [
        "morning", "coffee", "library", "lecture", "notes", "exam", "garden", "river", "bicycle", "concert", "weekend", "thesis",
        "dinner", "friends", "campus", "rain", "sunshine", "project", "seminar", "chapter", "photo", "music", "walk", "kitchen",
        "the", "a", "and", "with", "after", "before", "about", "really", "finally", "today", "tomorrow", "again", "great", "quiet",
    ];

    public static string Make(Random random, IReadOnlyList<string> friends)
    {
        var target = random.Next(350, 781);
        var mentions = friends.Count == 0 ? 0 : random.Next(1, 4);
        var links = random.Next(0, 3);
        var text = new StringBuilder(target + 64);
        for (var m = 0; m < mentions; m++)
            text.Append('@').Append(friends[random.Next(friends.Count)]).Append(' ');
        var tail = new StringBuilder();
        for (var l = 0; l < links; l++)
            tail.Append(" https://example.com/").Append(Guid.NewGuid().ToString("N")[..random.Next(8, 24)]);
        while (text.Length + tail.Length < target)
            text.Append(Words[random.Next(Words.Length)]).Append(' ');
        text.Length = Math.Max(1, Math.Min(text.Length, target - tail.Length));
        return text.ToString().TrimEnd() + tail;
    }
}
