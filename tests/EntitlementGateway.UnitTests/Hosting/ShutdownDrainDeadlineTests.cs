using EntitlementGateway.Hosting;

namespace EntitlementGateway.UnitTests.Hosting;

/// <summary>When requests still in flight stop waiting during a stop: a little before the server cuts connections.</summary>
public sealed class ShutdownDrainDeadlineTests
{
    [Theory]
    [InlineData(25, 2000)] // a fifth would be 5 s: at most 2 s are kept
    [InlineData(5, 1000)]
    [InlineData(1, 500)] // a fifth would be 0.2 s: at least 0.5 s are kept
    public void TheMarginKeptToAnswer_IsAFifthOfTheTimeout_From500MsTo2s(int timeoutSeconds, int marginMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(marginMs), ShutdownDelay.Margin(TimeSpan.FromSeconds(timeoutSeconds)));

    [Fact]
    public void TheDeadline_IsNotCancelledBeforeTheStop() =>
        Assert.False(new ShutdownDelay(TimeSpan.Zero, TimeSpan.FromSeconds(1)).DrainDeadline.IsCancellationRequested);
}
