using System.Collections.Concurrent;

namespace Lenta.Tests.Infrastructure;

/// <summary>One logged line with the key/value pairs of the scopes around it.</summary>
public sealed record LoggedEntry(LogLevel Level, string Category, string Message, IReadOnlyDictionary<string, object?> Scope);

/// <summary>
/// Keeps what was logged so a test can assert on it: as a logger handed to code directly, or as a provider added
/// to a server (where the configured levels still filter).
/// </summary>
public sealed class RecordingLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<LoggedEntry> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<LoggedEntry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new RecordingLogger(this, categoryName);

    public ILogger CreateLogger() => CreateLogger("test");

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class RecordingLogger(RecordingLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logs._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scope = new Dictionary<string, object?>();
            logs._scopes.ForEachScope((s, d) =>
            {
                if (s is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                        d[key] = value;
                }
            }, scope);
            logs._entries.Enqueue(new LoggedEntry(logLevel, category, formatter(state, exception), scope));
        }
    }
}
