using Microsoft.Extensions.Logging;

namespace EntitlementGateway.UnitTests.Infrastructure;

/// <summary>A logger that keeps each line written to it, with its level, for tests that check what a part says.</summary>
public sealed class WrittenLog<T> : ILogger<T>
{
    public List<(LogLevel Level, string Text)> Written { get; } = [];

    /// <summary>The same lines with their event ids.</summary>
    public List<(int Id, LogLevel Level, string Text)> Events { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = formatter(state, exception);
        lock (Written)
        {
            Written.Add((logLevel, text));
            Events.Add((eventId.Id, logLevel, text));
        }
    }
}
