using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

public class StoreCredentialsMonitorTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private StoreCredentialsMonitor Monitor(int after = 3, int windowSeconds = 60) => new(
        Options.Create(new StoreOptions { SuspectCredentialsAfter = after, SuspectCredentialsWindowSeconds = windowSeconds }),
        _time, NullLogger<StoreCredentialsMonitor>.Instance);

    [Fact]
    public void RecordRefusal_OfDifferentPlayersUpToTheThreshold_MakesTheCredentialsSuspect()
    {
        var monitor = Monitor(after: 3);
        Assert.False(monitor.RecordRefusal("user-a"));
        Assert.False(monitor.RecordRefusal("user-b"));
        Assert.True(monitor.RecordRefusal("user-c"));
        Assert.True(monitor.IsSuspect);
    }

    [Fact]
    public void RecordRefusal_OneAttackerRepeatingAPlayer_IsOnePlayer()
    {
        var monitor = Monitor(after: 3);
        for (var i = 0; i < 50; i++) Assert.False(monitor.RecordRefusal("user-victim"));
        Assert.False(monitor.RecordRefusal("user-other"));
        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void RecordRefusal_SpreadBeyondTheWindow_IsNotSuspect()
    {
        var monitor = Monitor(after: 3, windowSeconds: 60);
        monitor.RecordRefusal("user-a");
        monitor.RecordRefusal("user-b");
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False(monitor.RecordRefusal("user-c"));
    }

    [Fact]
    public void IsSuspect_EndsOneWindowAfterTheLastRefusal()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        monitor.RecordRefusal("user-a");
        monitor.RecordRefusal("user-b");
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(monitor.IsSuspect);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void RecordAccepted_ClearsSuspicionAndTheCount()
    {
        var monitor = Monitor(after: 2);
        monitor.RecordRefusal("user-a");
        monitor.RecordRefusal("user-b");
        monitor.RecordAccepted();
        Assert.False(monitor.IsSuspect);
        Assert.False(monitor.RecordRefusal("user-c"));
    }

    [Fact]
    public async Task HealthCheck_IsDegradedOnlyWhileSuspect()
    {
        var monitor = Monitor(after: 2);
        var check = new StoreCredentialsHealthCheck(monitor);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, (await check.CheckHealthAsync(new())).Status);
        monitor.RecordRefusal("user-a");
        monitor.RecordRefusal("user-b");
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, (await check.CheckHealthAsync(new())).Status);
    }
}
