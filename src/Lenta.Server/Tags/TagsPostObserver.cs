using Lenta.Server.Platform.Database;
using Lenta.Server.Posts;

namespace Lenta.Server.Tags;

/// <summary>Records every tag a post (or its edit) uses in <c>tags</c>, in the post's transaction: a tag exists once it was used.</summary>
public sealed class TagsPostObserver(TagsService tags) : IPostObserver
{
    public Task PostCreatedAsync(DbWrite write, PostCore post) => tags.EnsureAsync(write, post.TagNames);

    public Task PostEditedAsync(DbWrite write, PostCore post) => tags.EnsureAsync(write, post.TagNames);

    public Task PostDeletedAsync(DbWrite write, PostCore post) => Task.CompletedTask;
}
