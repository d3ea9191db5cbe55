using EntitlementGateway.Hosting;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;

namespace EntitlementGateway.UnitTests.Hosting;

public class BatchedConsoleSinkTests
{
    private static readonly MessageTemplateTextFormatter Lines = new("{Message}{NewLine}");

    private static LogEvent Event(int i) => new(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null,
        new MessageTemplateParser().Parse("line " + i), []);

    [Fact]
    public void Dispose_WritesEveryQueuedLineInOrder()
    {
        var output = new StringWriter();
        var sink = new BatchedConsoleSink(Lines, output);
        for (var i = 0; i < 100; i++) sink.Emit(Event(i));

        sink.Dispose();

        Assert.Equal(Enumerable.Range(0, 100).Select(i => "line " + i), output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Emit_PastTheQueueBound_WritesTheQueueOutRatherThanDropping()
    {
        var output = new StringWriter();
        using var sink = new BatchedConsoleSink(Lines, output);
        // The background loop may write some of them first; either way none is lost and the order holds.
        for (var i = 0; i <= BatchedConsoleSink.MaxQueued; i++) sink.Emit(Event(i));
        sink.WriteQueued();

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(BatchedConsoleSink.MaxQueued + 1, lines.Length);
        Assert.Equal("line " + BatchedConsoleSink.MaxQueued, lines[^1]);
    }

    [Fact]
    public async Task Emit_IsWrittenByTheBackgroundLoopWithoutAnyFlushCall()
    {
        var output = new StringWriter();
        using var sink = new BatchedConsoleSink(Lines, output);
        sink.Emit(Event(1));

        // Waits for the outcome, not for a time: the loop writes within its period, however slow the machine.
        for (var i = 0; i < 600 && output.ToString().Length == 0; i++) await Task.Delay(BatchedConsoleSink.Period);

        Assert.Equal("line 1" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void Emit_FromManyThreadsAtOnce_KeepsEveryLineWholeAndEachThreadsLinesInOrder()
    {
        // Events are formatted on the threads that log them: lines must not interleave, and none may be lost.
        var output = new StringWriter();
        var sink = new BatchedConsoleSink(Lines, output);
        const int threads = 8, each = 2_000;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < each; i++) sink.Emit(Event(t * 100_000 + i));
        });

        sink.Dispose();

        var numbers = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)
            .Select(l => int.Parse(l["line ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(threads * each, numbers.Count);
        for (var t = 0; t < threads; t++)
            Assert.Equal(Enumerable.Range(t * 100_000, each), numbers.Where(n => n / 100_000 == t));
    }

    [Fact]
    public void Emit_AfterAHugeLine_StillWritesTheNextLinesWhole()
    {
        var output = new StringWriter();
        var sink = new BatchedConsoleSink(Lines, output);
        var huge = new string('x', 40_000);
        sink.Emit(new LogEvent(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, new MessageTemplateParser().Parse(huge), []));
        sink.Emit(Event(2));

        sink.Dispose();

        Assert.Equal([huge, "line 2"], output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Emit_LinesEndingOnAndAcrossChunkBoundaries_AreWrittenWhole()
    {
        var output = new StringWriter();
        var sink = new BatchedConsoleSink(Lines, output);
        // The first line with its newline fills a chunk exactly; the second starts the next; the third spans two more.
        var exact = new string('a', BatchedConsoleSink.ChunkChars - Environment.NewLine.Length);
        var spanning = new string('b', BatchedConsoleSink.ChunkChars + 7);
        sink.Emit(Text(exact));
        sink.Emit(Event(2));
        sink.Emit(Text(spanning));

        sink.Dispose();

        Assert.Equal(exact + Environment.NewLine + "line 2" + Environment.NewLine + spanning + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void WriteQueued_ReusesItsChunks_SoTheNextBatchAllocatesNoBuffer()
    {
        // A growing StringBuilder made a new array of the whole batch each period (about 1 MB under load, on the
        // large-object heap). The chunks of a batch written out must serve the next one.
        using var sink = new BatchedConsoleSink(new PlainLines(), TextWriter.Null);
        var line = Text(new string('x', 600));
        for (var i = 0; i < 500; i++) sink.Emit(line);
        sink.WriteQueued();
        var free = sink.FreeChunks;
        Assert.InRange(free, 1, BatchedConsoleSink.MaxFreeChunks);
        // As many lines as the free chunks hold: even if the background loop writes none of them first, no chunk is new.
        var lines = free * BatchedConsoleSink.ChunkChars / (600 + Environment.NewLine.Length);
        sink.Emit(line);
        sink.WriteQueued();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < lines; i++) sink.Emit(line);
        sink.WriteQueued();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < BatchedConsoleSink.ChunkChars * sizeof(char), $"{lines} lines allocated {allocated} bytes");
        Assert.Equal(free, sink.FreeChunks);
    }

    [Fact]
    public void WriteQueued_AfterABurst_KeepsAtMostTheBoundOfChunksForReuse()
    {
        var output = new StringWriter();
        using var sink = new BatchedConsoleSink(Lines, output);
        // One event, so the whole burst is in the batch at once whatever the background loop does.
        var burst = new string('y', (BatchedConsoleSink.MaxFreeChunks + 10) * BatchedConsoleSink.ChunkChars);
        sink.Emit(Text(burst));
        sink.WriteQueued();

        Assert.Equal(BatchedConsoleSink.MaxFreeChunks, sink.FreeChunks);
        Assert.Equal(burst + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void BufferedWriter_WritesItsStreamOncePerBufferOfText_InUtf8WithoutAByteOrderMark()
    {
        // Console.Out made one write(2) per 256 characters; the sink's own writer makes one per buffer.
        var stream = new CountingStream();
        var writer = BatchedConsoleSink.BufferedWriter(stream);
        var text = string.Concat(Enumerable.Range(0, 2_000).Select(i => $"line {i:D5} caf\u00e9 " + new string('x', 80) + "\n"));
        var chunk = BatchedConsoleSink.ChunkChars;
        for (var i = 0; i < text.Length; i += chunk) writer.Write(text.ToCharArray(i, Math.Min(chunk, text.Length - i)), 0, Math.Min(chunk, text.Length - i));

        Assert.Equal(text.Length / BatchedConsoleSink.OutputBufferChars, stream.Writes);
        writer.Flush();

        Assert.Equal(text.Length / BatchedConsoleSink.OutputBufferChars + 1, stream.Writes);
        Assert.InRange(stream.Writes, 2, 4); // about 200,000 characters
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(text), stream.Bytes.ToArray());
        Assert.True(stream.CanWrite, "the stream (standard output) is left open");
    }

    [Fact]
    public void WriteQueued_ToTheBufferedWriter_WritesABatchInAFewWrites()
    {
        var stream = new CountingStream();
        using var sink = new BatchedConsoleSink(Lines, BatchedConsoleSink.BufferedWriter(stream));
        for (var i = 0; i < 5_000; i++) sink.Emit(Event(i));
        sink.WriteQueued();

        var text = System.Text.Encoding.UTF8.GetString(stream.Bytes.ToArray());
        Assert.Equal(Enumerable.Range(0, 5_000).Select(i => "line " + i), text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        // About 50,000 characters: one write, or two or three if the background loop took a first part; never one a line.
        Assert.InRange(stream.Writes, 1, 4);
    }

    /// <summary>A writable stream that keeps what it is given and counts the writes.</summary>
    private sealed class CountingStream : Stream
    {
        public MemoryStream Bytes { get; } = new();
        public int Writes { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Bytes.Length;
        public override long Position { get => Bytes.Length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes++;
            Bytes.Write(buffer);
        }
    }

    private static LogEvent Text(string message) => new(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null,
        new MessageTemplateParser().Parse(message), []);

    [Fact]
    public void Emit_WhileAnotherEventIsBeingFormatted_WritesBothLinesOnce()
    {
        // A value whose formatting logs (on the same thread) must not share the outer event's buffer.
        var output = new StringWriter();
        var formatter = new LoggingFormatter();
        var sink = new BatchedConsoleSink(formatter, output);
        formatter.Sink = sink;

        sink.Emit(Event(1));
        sink.Dispose();

        Assert.Equal(["line 2", "line 1"], output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The message's text and a newline, allocating nothing, so what a test measures is the sink's own.</summary>
    private sealed class PlainLines : Serilog.Formatting.ITextFormatter
    {
        public void Format(LogEvent logEvent, TextWriter output)
        {
            output.Write(logEvent.MessageTemplate.Text);
            output.WriteLine();
        }
    }

    private sealed class LoggingFormatter : Serilog.Formatting.ITextFormatter
    {
        public BatchedConsoleSink? Sink { get; set; }

        public void Format(LogEvent logEvent, TextWriter output)
        {
            if (logEvent.MessageTemplate.Text == "line 1") Sink!.Emit(Event(2));
            Lines.Format(logEvent, output);
        }
    }
}
