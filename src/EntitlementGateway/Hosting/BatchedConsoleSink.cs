using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Log lines to standard output in batches. A request formats its own event into a buffer of its thread and appends the
/// text to the pending batch under a short lock; one background loop swaps the batch out every <see cref="Period"/> and
/// writes it with a single write. So no event outlives its request: queued events used to survive a garbage collection
/// or two, and every collection paid for them (longer pauses, a larger young generation). The console sink instead
/// formatted and wrote every line under one lock, so concurrent requests queued behind each other for the console.
/// Nothing is dropped: past <see cref="MaxQueued"/> pending lines, the request that adds one writes the batch out itself.
/// Disposing writes out what is left, and so does the process's exit, so a graceful stop or a failed start loses no line.
/// The batch is held in fixed chunks below the large-object threshold, reused from batch to batch: a growing
/// StringBuilder made a new array of the whole batch (about 1 MB at 30,000 lines a second) every period, on the
/// large-object heap, whose collections and fragmentation held tens of MB under load.
/// The batch goes to standard output through a writer of its own (<see cref="StandardOutput"/>): Console.Out keeps a
/// 256-character buffer for interactive consoles and so made one write(2) per 256 characters, about 10,000 system calls a
/// second under the hit load, each waking whatever reads the container's log pipe.
/// </summary>
public sealed class BatchedConsoleSink : ILogEventSink, IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);
    public const int MaxQueued = 20_000;

    [ThreadStatic] private static StringWriter? t_line;

    private readonly ITextFormatter _formatter;
    private readonly TextWriter _output;
    private readonly Lock _pending = new();
    private readonly Lock _writing = new();
    // 32 KB a chunk: under the 85,000-byte threshold, so chunks are ordinary young objects until they are reused.
    internal const int ChunkChars = 16 * 1024;
    // Chunks kept for reuse after a write; a burst past this (4 MB) goes back to the garbage collector.
    internal const int MaxFreeChunks = 128;

    private List<char[]> _batch = [];
    private List<char[]> _spare = [];
    private int _tail; // chars used in the batch's last chunk
    private readonly Stack<char[]> _free = new();
    private int _queued;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <summary>Characters the standard-output writer gathers before a write: a batch is one or a few writes.</summary>
    internal const int OutputBufferChars = 64 * 1024;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// A writer over <paramref name="stream"/> that writes only when <see cref="OutputBufferChars"/> characters are gathered
    /// or the batch is flushed (UTF-8, no byte-order mark); the stream is left open.
    /// </summary>
    internal static TextWriter BufferedWriter(Stream stream) => new StreamWriter(stream, Utf8, OutputBufferChars, leaveOpen: true);

    /// <summary>Standard output, unbuffered underneath, behind <see cref="BufferedWriter"/>.</summary>
    public static TextWriter StandardOutput() => BufferedWriter(Console.OpenStandardOutput());

    public BatchedConsoleSink(ITextFormatter formatter, TextWriter? output = null)
    {
        _formatter = formatter;
        _output = output ?? StandardOutput();
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
        // Taken from the thread while in use: an event logged while this one is formatted (a value's ToString that
        // logs) gets a buffer of its own instead of clearing this one.
        var line = t_line ?? new StringWriter(new StringBuilder(512), System.Globalization.CultureInfo.InvariantCulture);
        t_line = null;
        var text = line.GetStringBuilder();
        text.Clear();
        _formatter.Format(logEvent, line);
        bool full;
        lock (_pending)
        {
            foreach (var chunk in text.GetChunks()) Append(chunk.Span);
            full = ++_queued > MaxQueued;
        }
        // A rare huge line (an exception's stack) is not kept alive by the thread that logged it.
        if (text.Capacity <= 16 * 1024) t_line = line;
        if (full) WriteQueued();
    }

    /// <summary>Copies <paramref name="text"/> to the end of the batch. Called under <c>_pending</c>.</summary>
    private void Append(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (_batch.Count == 0 || _tail == ChunkChars)
            {
                _batch.Add(_free.TryPop(out var reused) ? reused : new char[ChunkChars]);
                _tail = 0;
            }
            var n = Math.Min(text.Length, ChunkChars - _tail);
            text[..n].CopyTo(_batch[^1].AsSpan(_tail));
            _tail += n;
            text = text[n..];
        }
    }

    /// <summary>Writes everything pending so far, in order.</summary>
    public void WriteQueued()
    {
        lock (_writing)
        {
            List<char[]> chunks;
            int tail;
            lock (_pending)
            {
                if (_batch.Count == 0) return;
                chunks = _batch;
                tail = _tail;
                _batch = _spare;
                _tail = 0;
                _queued = 0;
            }
            try
            {
                for (var i = 0; i < chunks.Count; i++)
                    _output.Write(chunks[i], 0, i == chunks.Count - 1 ? tail : ChunkChars);
                _output.Flush();
            }
            finally
            {
                // A closed stdout loses this batch, not the next ones.
                lock (_pending)
                {
                    foreach (var chunk in chunks)
                        if (_free.Count < MaxFreeChunks) _free.Push(chunk);
                }
                chunks.Clear();
                _spare = chunks;
            }
        }
    }

    /// <summary>Chunks waiting to be reused (for tests).</summary>
    internal int FreeChunks
    {
        get { lock (_pending) return _free.Count; }
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
    }
}
