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
}
