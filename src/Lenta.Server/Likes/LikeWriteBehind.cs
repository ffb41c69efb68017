namespace Lenta.Server.Likes;

/// <summary>
/// The write-behind of likes: folds unfolded likes into the lists' tables and the stored counts
/// (<see cref="LikesService.FoldAsync"/>), a batch at a time. Woken by this process's likes, it first lets a second's
/// likes gather (a fold of thousands shares the pages it writes: at the benchmark's ~13,000 likes/s, folding every
/// second instead of every quarter second was worth +15 %; a fold per like would write as many pages as the likes
/// themselves saved), and looks every 5 s for likes other nodes wrote or a crash left unfolded. Reads never wait for
/// it: they add the unfolded likes themselves.
/// </summary>
public sealed class LikeWriteBehind(LikesService likes, ILogger<LikeWriteBehind> log) : BackgroundService
{
    /// <summary>
    /// Likes per fold: on PostgreSQL it bounds the fold's transaction; on SQLite, where a fold goes in steps of ~1,024
    /// likes each (LikesService.FoldStepAsync), how long a fold's likes wait in the partial index of unfolded likes.
    /// </summary>
    private const int Batch = 8_192;
    private static readonly TimeSpan Gather = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        likes.LikesWritten += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    while (await likes.FoldAsync(Batch, stoppingToken) == Batch)
                    {
                        // more waiting: keep folding
                    }
                    if (await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken))
                        await Task.Delay(Gather, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    log.LogError(e, "Folding likes failed; retrying");
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
        }
        finally
        {
            likes.LikesWritten -= Wake;
        }
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
                _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }
}
