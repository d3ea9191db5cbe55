using EntitlementGateway.Consumables;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EntitlementGateway.UnitTests.Consumables;

/// <summary>A Redis outage makes every consume fail at the ledger: one Error line per quiet spell, not one per consume.</summary>
public sealed class ConsumeLedgerFailuresTests
{
    [Fact]
    public void TheFirstFailureIsAnError_TheRestOfTheQuietSpellDebug_ThenAnErrorAgain()
    {
        var time = new ManualTimeProvider();
        var failures = new ConsumeLedgerFailures(time);

        Assert.Equal(LogLevel.Error, failures.Next());
        Assert.Equal(LogLevel.Debug, failures.Next());
        time.Advance(ConsumeLedgerFailures.Quiet - TimeSpan.FromTicks(1));
        Assert.Equal(LogLevel.Debug, failures.Next());
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(LogLevel.Error, failures.Next());
        Assert.Equal(LogLevel.Debug, failures.Next());
    }

    [Fact]
    public void ManyAtOnce_WriteOneError()
    {
        var failures = new ConsumeLedgerFailures(new ManualTimeProvider());
        var levels = new LogLevel[64];
        Parallel.For(0, levels.Length, i => levels[i] = failures.Next());
        Assert.Equal(1, levels.Count(l => l == LogLevel.Error));
    }
}
