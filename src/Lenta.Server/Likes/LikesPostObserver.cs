using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Posts;

namespace Lenta.Server.Likes;

/// <summary>
/// A new post has no likes: its count and its author's flag are known without a query, so they are cached after the
/// commit (add-if-absent: a like that raced ahead already put the true values). A post's likes go with it, in the
/// post's delete transaction.
/// </summary>
public sealed class LikesPostObserver(ICache cache, TimeProvider time) : IPostObserver
{
    public Task PostCreatedAsync(DbWrite write, PostCore post)
    {
        var beforeCommit = time.GetUtcNow();
        write.AfterCommit(() => LikesService.PrimeNewPostAsync(cache, post.Id, post.AccountId, beforeCommit));
        return Task.CompletedTask;
    }

    public Task PostDeletedAsync(DbWrite write, PostCore post) => LikesService.DeleteForPostAsync(write, post.Id);
}
