namespace Lenta.Tests.Platform;

/// <summary>
/// A port's contract suite: what every adapter of <typeparamref name="TPort"/> must do, written against the port alone.
/// Each test gets a fresh adapter from <see cref="CreateAsync"/>, so another adapter (Redis, S3) joins the suite with a
/// subclass that says how to make one and how to let it go.
/// </summary>
public abstract class PortContractTests<TPort> : IAsyncLifetime where TPort : class
{
    private readonly List<Func<ValueTask>> _releases = [];

    /// <summary>The adapter under test.</summary>
    protected TPort Subject { get; private set; } = null!;

    /// <summary>A fresh adapter, and what releases it (and whatever it made: files, a database) once the test is over.</summary>
    protected abstract Task<(TPort Port, Func<ValueTask> Release)> CreateAsync();

    public virtual async ValueTask InitializeAsync() => Subject = await AnotherAsync();

    /// <summary>One more adapter from <see cref="CreateAsync"/>, as another process would make it; released with the test.</summary>
    protected async Task<TPort> AnotherAsync()
    {
        var (port, release) = await CreateAsync();
        _releases.Add(release);
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _releases.Count - 1; i >= 0; i--)
            await _releases[i]();
    }
}
