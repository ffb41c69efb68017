using System.Text.Json;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Posts;

namespace Lenta.Server.Conversations;

/// <summary>One participant's conversation: the thread it groups, the others in it, its newest post, and whether its owner has read it.</summary>
public sealed class ConversationRow
{
    public long Id { get; init; }
    public long AccountId { get; init; }
    public long RootId { get; init; }
    public string Participants { get; init; } = "[]";
    public long LastStatusId { get; init; }
    public bool Unread { get; init; }

    public long[] ParticipantIds => JsonSerializer.Deserialize(Participants, ConversationsJson.Default.Int64Array) ?? [];
}

/// <summary>Told when a participant's conversation got a new post (the direct stream), inside the write that changed it.</summary>
public interface IConversationObserver
{
    void ConversationChanged(DbWrite write, long accountId, long conversationId);
}

/// <summary>
/// Conversations (docs.joinmastodon.org/methods/conversations): the direct posts of one thread, grouped per participant as
/// Mastodon's AccountConversation does. A direct post reaches its author and the local accounts it mentions, except
/// those in a block with the author; each gets (or has updated) their row for the thread's root: the post becomes its
/// last, it moves to the top of their list, and it is unread for everyone but the author. Rows are written by a job
/// (<see cref="DeliverHandler"/>), idempotently: a row only moves forward to a newer post.
/// </summary>
public sealed class ConversationService(IDatabase db, PostService posts, BlocksAndMutes blocks, IdGenerator ids, IEnumerable<IConversationObserver> observers)
{
    /// <summary>How far up a thread the root is looked for when the parent is no direct post already placed.</summary>
    private const int MaxHops = 256;

    /// <summary>Files <paramref name="post"/> (a direct post) into its participants' conversations.</summary>
    public async Task DeliverAsync(PostCore post, CancellationToken ct)
    {
        var root = await RootAsync(post, ct);
        var mentioned = post.MentionIds.Where(m => m != post.AccountId).Distinct().ToList();
        var blocked = await blocks.BlockedEitherWayAmongAsync(post.AccountId, mentioned, ct);
        var members = mentioned.Where(m => !blocked.Contains(m)).Prepend(post.AccountId).ToList();
        await db.WriteAsync(async w =>
        {
            if (!await PostService.HoldsPostAsync(w, post.Id))
                return; // deleted meanwhile: its delete found nothing to undo, and there is nothing to file
            foreach (var member in members)
                await FileAsync(w, member, root, post, members.Where(m => m != member).ToArray());
        }, ct);
    }

    private async Task FileAsync(DbWrite w, long member, long root, PostCore post, long[] others)
    {
        await w.ExecuteAsync("""
            INSERT INTO conversation_statuses (status_id, account_id, root_id) VALUES (@status, @member, @root)
            ON CONFLICT (status_id, account_id) DO NOTHING
            """, new { status = post.Id, member, root });
        var unread = member != post.AccountId;
        var created = await w.QuerySingleOrDefaultAsync<long?>("""
            INSERT INTO account_conversations (id, account_id, root_id, participants, last_status_id, unread) VALUES (@id, @member, @root, @participants, @status, @unread)
            ON CONFLICT (account_id, root_id) DO NOTHING RETURNING id
            """, new { id = ids.Next(), member, root, participants = Json(others), status = post.Id, unread = unread ? 1 : 0 });
        if (created is { } newId)
        {
            Changed(w, member, newId);
            return;
        }
        var row = await w.QuerySingleOrDefaultAsync<ConversationRow>(
            $"SELECT id, account_id, root_id, participants, last_status_id, unread FROM account_conversations WHERE account_id = @member AND root_id = @root{(w.Provider == DbProvider.Postgres ? " FOR UPDATE" : "")}",
            new { member, root });
        if (row is null)
            return;
        var participants = row.ParticipantIds.Union(others).ToArray();
        if (row.LastStatusId < post.Id)
        {
            await w.ExecuteAsync("UPDATE account_conversations SET participants = @participants, last_status_id = @status, unread = @unread WHERE id = @id",
                new { id = row.Id, participants = Json(participants), status = post.Id, unread = unread ? 1 : 0 });
            Changed(w, member, row.Id);
        }
        else if (participants.Length != row.ParticipantIds.Length)
        {
            // An older post delivered late (or again): it may add a participant, never move the conversation.
            await w.ExecuteAsync("UPDATE account_conversations SET participants = @participants WHERE id = @id", new { id = row.Id, participants = Json(participants) });
        }
    }

    private void Changed(DbWrite w, long member, long conversationId)
    {
        foreach (var observer in observers)
            observer.ConversationChanged(w, member, conversationId);
    }

    /// <summary>
    /// The thread's root: a top-level post is its own; a reply takes its parent's conversation's root when the parent is
    /// a direct post already filed, else the top of the chain of parents (as far as they still exist).
    /// </summary>
    private async Task<long> RootAsync(PostCore post, CancellationToken ct)
    {
        if (post.InReplyToId is not { } parent)
            return post.Id;
        var known = await db.ReadAsync(c => c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT root_id FROM conversation_statuses WHERE status_id = @parent LIMIT 1", new { parent }, cancellationToken: ct)), ct);
        if (known is { } r)
            return r;
        var root = parent;
        for (var hops = 0; hops < MaxHops && await posts.Cache.GetAsync(root, ct) is { InReplyToId: { } up }; hops++)
            root = up;
        return root;
    }

    /// <summary>
    /// In a deleted direct post's transaction: it leaves the conversations it was filed in; each whose last post it was
    /// falls back to the newest one left, and one with none left is gone.
    /// </summary>
    public static async Task PostDeletedAsync(DbWrite w, long statusId)
    {
        var members = (await w.QueryAsync<long>("DELETE FROM conversation_statuses WHERE status_id = @statusId RETURNING account_id", new { statusId })).ToList();
        foreach (var member in members)
        {
            await w.ExecuteAsync("""
                UPDATE account_conversations SET last_status_id = COALESCE((
                    SELECT MAX(s.status_id) FROM conversation_statuses s WHERE s.account_id = account_conversations.account_id AND s.root_id = account_conversations.root_id), 0)
                WHERE account_id = @member AND last_status_id = @statusId
                """, new { member, statusId });
            await w.ExecuteAsync("DELETE FROM account_conversations WHERE account_id = @member AND last_status_id = 0", new { member });
        }
    }

    /// <summary>The viewer's conversations, most recently active first, paged by their last post's id (as Mastodon pages them).</summary>
    public Task<List<ConversationRow>> PageAsync(long me, Page page, CancellationToken ct)
    {
        var (lower, ascending) = page.LowerBound;
        return db.ReadAsync(async c =>
        {
            var rows = (await c.QueryAsync<ConversationRow>(new CommandDefinition($"""
                SELECT id, account_id, root_id, participants, last_status_id, unread FROM account_conversations WHERE account_id = @me
                {(page.MaxId is null ? "" : "AND last_status_id < @max")} {(lower is null ? "" : "AND last_status_id > @lower")}
                ORDER BY last_status_id {(ascending ? "ASC" : "DESC")} LIMIT @limit
                """, new { me, max = page.MaxId, lower, limit = page.Limit }, cancellationToken: ct))).ToList();
            if (ascending)
                rows.Reverse();
            return rows;
        }, ct);
    }

    public Task<ConversationRow?> GetAsync(long me, long id, CancellationToken ct) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ConversationRow>(new CommandDefinition(
            "SELECT id, account_id, root_id, participants, last_status_id, unread FROM account_conversations WHERE id = @id AND account_id = @me",
            new { id, me }, cancellationToken: ct)), ct);

    /// <summary>Marks the viewer's conversation read; false when they have no such conversation.</summary>
    public async Task<bool> MarkReadAsync(long me, long id, CancellationToken ct) =>
        await db.WriteAsync(w => w.ExecuteAsync("UPDATE account_conversations SET unread = 0 WHERE id = @id AND account_id = @me", new { id, me }), ct) > 0;

    /// <summary>Takes the conversation off the viewer's list (the posts stay, and the others keep theirs); a new post in the thread brings it back.</summary>
    public Task<bool> RemoveAsync(long me, long id, CancellationToken ct) =>
        db.WriteAsync(async w =>
        {
            var root = await w.QuerySingleOrDefaultAsync<long?>("DELETE FROM account_conversations WHERE id = @id AND account_id = @me RETURNING root_id", new { id, me });
            if (root is null)
                return false;
            await w.ExecuteAsync("DELETE FROM conversation_statuses WHERE account_id = @me AND root_id = @root", new { me, root });
            return true;
        }, ct);

    private static string Json(long[] ids) => JsonSerializer.Serialize(ids, ConversationsJson.Default.Int64Array);
}
