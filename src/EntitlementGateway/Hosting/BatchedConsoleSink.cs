using System.Collections.Concurrent;
using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Log lines to standard output in batches. A request only queues its event (lock-free); one background loop formats
/// what has queued every <see cref="Period"/> and writes it with a single write. The console sink instead formats and
/// writes every line under one lock, so concurrent requests queued behind each other for the console. Nothing is dropped:
/// past <see cref="MaxQueued"/> waiting events, the request that adds one writes the queue out itself. Disposing writes
/// out what is left, and so does the process's exit, so a graceful stop or a failed start loses no line.
/// </summary>
public sealed class BatchedConsoleSink : ILogEventSink, IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);
    public const int MaxQueued = 20_000;

    private readonly ITextFormatter _formatter;
    private readonly TextWriter _output;
    private readonly ConcurrentQueue<LogEvent> _queue = new();
    private readonly Lock _writing = new();
    private readonly StringWriter _batch = new(new StringBuilder(16 * 1024), System.Globalization.CultureInfo.InvariantCulture);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _queued;

    public BatchedConsoleSink(ITextFormatter formatter, TextWriter? output = null)
    {
        _formatter = formatter;
        _output = output ?? Console.Out;
        _loop = Task.Run(LoopAsync);
        // A host that fails to start is never disposed: what it logged on the way out is written as the process exits.
        AppDomain.CurrentDomain.ProcessExit += WriteOnExit;
    }

    private void WriteOnExit(object? sender, EventArgs e)
    {
        try { WriteQueued(); }
        catch (IOException) { }
    }

    public void Emit(LogEvent logEvent)
    {
        _queue.Enqueue(logEvent);
        if (Interlocked.Increment(ref _queued) > MaxQueued) WriteQueued();
    }

    /// <summary>Formats and writes everything queued so far, in order.</summary>
    public void WriteQueued()
    {
        lock (_writing)
        {
            while (_queue.TryDequeue(out var logEvent))
            {
                Interlocked.Decrement(ref _queued);
                _formatter.Format(logEvent, _batch);
            }
            var text = _batch.GetStringBuilder();
            if (text.Length == 0) return;
            try
            {
                _output.Write(text);
                _output.Flush();
            }
            finally
            {
                // A closed stdout loses this batch, not the next ones.
                text.Clear();
            }
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try { WriteQueued(); }
                catch (IOException) { }
            }
        }
        catch (OperationCanceledException) { }
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= WriteOnExit;
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        WriteQueued();
        _stop.Dispose();
        _batch.Dispose();
    }
}
