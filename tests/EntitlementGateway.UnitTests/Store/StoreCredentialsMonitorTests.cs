using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

public class StoreCredentialsMonitorTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private readonly AcceptedUcids _accepted = new();

    private StoreCredentialsMonitor Monitor(int after = 3, int windowSeconds = 60) => new(
        Options.Create(new StoreOptions { SuspectCredentialsAfter = after, SuspectCredentialsWindowSeconds = windowSeconds }),
        _time, NullLogger<StoreCredentialsMonitor>.Instance, accepted: _accepted);

    /// <summary>A UCID for <paramref name="player"/> (its budget key is "user-" + player); each call makes a new token.</summary>
    private UserCollectionsId Ucid(string player) =>
        UserCollectionsId.TryParse(TestUcid.Create(_time.GetUtcNow(), userId: player), out _)!;

    /// <summary>A UCID the Store has answered for (remembered, as an answered query remembers it).</summary>
    private UserCollectionsId AcceptedUcid(string player)
    {
        var ucid = Ucid(player);
        _accepted.Remember(new AcceptedUcids.Entry(ucid));
        return ucid;
    }

    private static bool Refuse(StoreCredentialsMonitor monitor, string budgetKey) => monitor.RecordRefusal(budgetKey, null);

    [Fact]
    public void RecordRefusal_OfDifferentPlayersUpToTheThreshold_MakesTheCredentialsSuspect()
    {
        var monitor = Monitor(after: 3);
        Assert.False(Refuse(monitor, "user-a"));
        Assert.False(Refuse(monitor, "user-b"));
        Assert.True(Refuse(monitor, "user-c"));
        Assert.True(monitor.IsSuspect);
    }

    [Fact]
    public void RecordRefusal_OneAttackerRepeatingAPlayer_IsOnePlayer()
    {
        var monitor = Monitor(after: 3);
        for (var i = 0; i < 50; i++) Assert.False(Refuse(monitor, "user-victim"));
        Assert.False(Refuse(monitor, "user-other"));
        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void RecordRefusal_SpreadBeyondTheWindow_IsNotSuspect()
    {
        var monitor = Monitor(after: 3, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False(Refuse(monitor, "user-c"));
    }

    [Fact]
    public void IsSuspect_EndsOneWindowAfterTheLastRefusal()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(monitor.IsSuspect);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void RecordAccepted_ClearsSuspicionAndTheCount()
    {
        var monitor = Monitor(after: 2);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        monitor.RecordAccepted();
        Assert.False(monitor.IsSuspect);
        Assert.False(Refuse(monitor, "user-c"));
    }

    [Fact]
    public async Task HealthCheck_IsDegradedOnlyWhileSuspect()
    {
        var monitor = Monitor(after: 2);
        var check = new StoreCredentialsHealthCheck(monitor);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, (await check.CheckHealthAsync(new())).Status);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, (await check.CheckHealthAsync(new())).Status);
    }

    [Fact]
    public void AfterAnAcceptedCall_RefusalsOfUcidsTheStoreNeverAccepted_DoNotCount()
    {
        // Anyone can send UCIDs with made-up player ids and a broken signature: they must not put the gateway in doubt.
        var monitor = Monitor(after: 3);
        monitor.RecordAccepted();

        for (var i = 0; i < 20; i++) Assert.False(monitor.RecordRefusal("user-forged-" + i, Ucid("forged-" + i)));

        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void AfterAnAcceptedCall_RefusalsOfUcidsTheStoreAcceptedBefore_MakeTheCredentialsSuspect()
    {
        var monitor = Monitor(after: 3);
        var players = new[] { AcceptedUcid("a"), AcceptedUcid("b"), AcceptedUcid("c") };
        monitor.RecordAccepted();

        Assert.False(monitor.RecordRefusal("user-a", players[0]));
        Assert.False(monitor.RecordRefusal("user-b", players[1]));
        Assert.True(monitor.RecordRefusal("user-c", players[2]));
        Assert.True(monitor.IsSuspect);
    }

    [Fact]
    public void AfterAnAcceptedCall_ForgedRefusalsBetweenGenuineOnes_DoNotMakeUpTheCount()
    {
        var monitor = Monitor(after: 3);
        var a = AcceptedUcid("a");
        var b = AcceptedUcid("b");
        monitor.RecordAccepted();

        monitor.RecordRefusal("user-a", a);
        for (var i = 0; i < 5; i++) monitor.RecordRefusal("user-forged-" + i, Ucid("forged-" + i));
        Assert.False(monitor.RecordRefusal("user-b", b));

        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void WhileSuspect_ARefusalOfANeverAcceptedUcid_IsAnsweredAsSuspect_WithoutExtendingIt()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        var a = AcceptedUcid("a");
        var b = AcceptedUcid("b");
        monitor.RecordAccepted();
        monitor.RecordRefusal("user-a", a);
        monitor.RecordRefusal("user-b", b);
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.True(monitor.RecordRefusal("user-forged", Ucid("forged")));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void BeforeAnyAcceptedCall_EveryRefusalCounts_SoAGatewayThatStartsMisconfiguredIsSuspected()
    {
        var monitor = Monitor(after: 3);

        Assert.False(monitor.RecordRefusal("user-a", Ucid("a")));
        Assert.False(monitor.RecordRefusal("user-b", Ucid("b")));
        Assert.True(monitor.RecordRefusal("user-c", Ucid("c")));
    }
}
