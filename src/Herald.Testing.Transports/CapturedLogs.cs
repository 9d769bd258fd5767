using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Herald.Testing.Transports;

/// <summary>A logger factory that keeps every line, for tests that check what Herald logs.</summary>
internal sealed class CapturedLogs : ILoggerFactory, ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception)));

    public void Dispose()
    {
    }
}
