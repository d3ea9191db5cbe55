using EntitlementGateway.Hosting;
using Serilog.Events;
using Serilog.Parsing;

namespace EntitlementGateway.UnitTests.Hosting;

/// <summary>
/// Only the host's own error for a start Program reports in one line (cancelled, or a refused setting) is left out of
/// the log; every other error stays.
/// </summary>
public class StartFailureFilterTests
{
    private static LogEvent Event(string? category, Exception? exception) => new(
        DateTimeOffset.UnixEpoch, LogEventLevel.Error, exception, new MessageTemplateParser().Parse("Hosting failed to start"),
        category is null ? [] : [new LogEventProperty("SourceContext", new ScalarValue(category))]);

    [Fact]
    public void TheHostsErrorForACancelledStart_IsLeftOut() =>
        Assert.True(GatewayLogging.IsReportedByProgram(Event(GatewayLogging.HostCategory, new TaskCanceledException())));

    [Fact]
    public void TheHostsErrorForARefusedSetting_IsLeftOut() =>
        Assert.True(GatewayLogging.IsReportedByProgram(Event(GatewayLogging.HostCategory,
            new Microsoft.Extensions.Options.OptionsValidationException("Budget", typeof(object), ["Budget:Limit must be between 1 and 100000."]))));

    [Theory]
    [InlineData("Microsoft.Extensions.Hosting.Internal.Host", false)]
    [InlineData("EntitlementGateway.Budget.BudgetStartup", true)]
    [InlineData(null, true)]
    public void AnyOtherError_IsKept(string? category, bool cancelled) =>
        Assert.False(GatewayLogging.IsReportedByProgram(Event(category, cancelled ? new OperationCanceledException() : new InvalidOperationException())));

    [Fact]
    public void TheHostsErrorWithNoException_IsKept() =>
        Assert.False(GatewayLogging.IsReportedByProgram(Event(GatewayLogging.HostCategory, null)));
}
