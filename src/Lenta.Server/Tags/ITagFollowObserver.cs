using Lenta.Server.Platform.Database;

namespace Lenta.Server.Tags;

/// <summary>Modules that react to someone following or unfollowing a tag (the home feed) write their part in the same transaction.</summary>
public interface ITagFollowObserver
{
    Task TagFollowChangedAsync(DbWrite write, long account, string tag, bool following);
}
