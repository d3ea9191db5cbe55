using System.Diagnostics.Metrics;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

public class StoreCredentialsMonitorTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private readonly AcceptedUcids _accepted = new();

    private readonly Lines _log = new();

    private StoreCredentialsMonitor Monitor(int after = 3, int windowSeconds = 60, GatewayMetrics? metrics = null) => new(
        Options.Create(new StoreOptions { SuspectCredentialsAfter = after, SuspectCredentialsWindowSeconds = windowSeconds }),
        _time, _log, metrics, accepted: _accepted);

    private sealed class Lines : ILogger<StoreCredentialsMonitor>
    {
        public List<(int Id, LogLevel Level, string Text)> Written { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Written.Add((eventId.Id, logLevel, formatter(state, exception)));

        public int Count(int id) => Written.Count(w => w.Id == id);
    }

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

    /// <summary>A monitor (2 players in 60 s) that has seen an accepted call, then two UCIDs it had accepted refused: suspect.</summary>
    private StoreCredentialsMonitor SuspectAfterGenuineRefusals()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        var a = AcceptedUcid("a");
        var b = AcceptedUcid("b");
        monitor.RecordAccepted();
        monitor.RecordRefusal("user-a", a);
        Assert.True(monitor.RecordRefusal("user-b", b));
        return monitor;
    }

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
        var monitor = SuspectAfterGenuineRefusals();
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

    [Fact]
    public void BecomingSuspect_IsLoggedOnce_AsAnErrorNamingThePlayersAndTheWindow()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Assert.Empty(_log.Written);

        Refuse(monitor, "user-b");
        Refuse(monitor, "user-c");
        _time.Advance(TimeSpan.FromSeconds(10));
        Refuse(monitor, "user-d");

        var (id, level, text) = Assert.Single(_log.Written);
        Assert.Equal(EventIds.StoreCredentialsSuspect, id);
        Assert.Equal(LogLevel.Error, level);
        Assert.StartsWith("The Store refused 2 different players within 60 s", text, StringComparison.Ordinal);
    }

    [Fact]
    public void SuspectAgainWithinAWindowOfTheLastLine_IsNotLoggedAgain_ButAfterAWindowItIs()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        // Accepted calls clear it; before any, every refusal counts again, so the same two make it suspect again.
        _time.Advance(TimeSpan.FromSeconds(59));
        monitor.RecordAccepted();
        var a = AcceptedUcid("a");
        var b = AcceptedUcid("b");
        monitor.RecordRefusal("user-a", a);
        Assert.True(monitor.RecordRefusal("user-b", b));
        Assert.Equal(1, _log.Count(EventIds.StoreCredentialsSuspect));

        _time.Advance(TimeSpan.FromSeconds(1));
        monitor.RecordAccepted();
        monitor.RecordRefusal("user-a", a);
        Assert.True(monitor.RecordRefusal("user-b", b));
        Assert.Equal(2, _log.Count(EventIds.StoreCredentialsSuspect));
    }

    [Fact]
    public void AnAcceptedCallWhileSuspect_LogsThatItCleared_AndOneWhileNotSuspect_LogsNothing()
    {
        var monitor = Monitor(after: 2);
        Refuse(monitor, "user-a");
        monitor.RecordAccepted();
        Assert.Empty(_log.Written);

        var a = AcceptedUcid("a");
        var b = AcceptedUcid("b");
        monitor.RecordRefusal("user-a", a);
        monitor.RecordRefusal("user-b", b);
        monitor.RecordAccepted();

        Assert.Equal(1, _log.Count(EventIds.StoreCredentialsCleared));
        Assert.Equal(LogLevel.Information, _log.Written.Single(w => w.Id == EventIds.StoreCredentialsCleared).Level);
        Assert.False(monitor.IsSuspect);
        monitor.RecordAccepted();
        Assert.Equal(1, _log.Count(EventIds.StoreCredentialsCleared));
    }

    [Fact]
    public void AnAcceptedCall_ForgetsRefusalsBelowTheThreshold()
    {
        var monitor = Monitor(after: 3);
        var a = AcceptedUcid("a");
        var b = AcceptedUcid("b");
        var c = AcceptedUcid("c");
        monitor.RecordAccepted();
        monitor.RecordRefusal("user-a", a);
        monitor.RecordRefusal("user-b", b);

        monitor.RecordAccepted();

        Assert.False(monitor.RecordRefusal("user-c", c));
    }

    [Fact]
    public void RefusalsWhileSuspect_DoNotGrowTheCountBeyondTheThreshold()
    {
        // Only the threshold's worth of players is kept: one refused while suspect does not linger into the next window.
        var monitor = Monitor(after: 2, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        _time.Advance(TimeSpan.FromSeconds(30));
        Refuse(monitor, "user-c");
        _time.Advance(TimeSpan.FromSeconds(31));
        // c's refusal extended the suspicion to 90 s; a and b have left the window, so d is one player alone.
        Refuse(monitor, "user-d");
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.False(monitor.IsSuspect);
    }

    [Fact]
    public void AForgedRefusalAtTheVeryEndOfTheSuspicion_IsNoLongerAnsweredAsSuspect()
    {
        var monitor = SuspectAfterGenuineRefusals();

        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.False(monitor.RecordRefusal("user-forged", Ucid("forged")));
    }

    [Fact]
    public void TheSuspicionEndsExactlyOneWindowOn_SoAThresholdReachedThenIsANewOne_LoggedAgain()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        _time.Advance(TimeSpan.FromSeconds(10));
        Refuse(monitor, "user-c"); // suspect until 70 s
        _time.Advance(TimeSpan.FromSeconds(51));
        Refuse(monitor, "user-d"); // a and b have left the window: d alone
        _time.Advance(TimeSpan.FromSeconds(9));

        // At 70 s the suspicion has just ended, and d and e reach the threshold anew: a new suspicion, a new line.
        Assert.True(Refuse(monitor, "user-e"));
        Assert.Equal(2, _log.Count(EventIds.StoreCredentialsSuspect));
    }

    [Fact]
    public void ARefusalBelowTheThreshold_AtTheVeryEndOfTheSuspicion_LogsNothing()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.False(Refuse(monitor, "user-c"));
        Assert.Equal(1, _log.Count(EventIds.StoreCredentialsSuspect));
    }

    [Fact]
    public void AnAcceptedCallAtTheVeryEndOfTheSuspicion_LogsNoClearing()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        _time.Advance(TimeSpan.FromSeconds(60));

        monitor.RecordAccepted();

        Assert.Equal(0, _log.Count(EventIds.StoreCredentialsCleared));
    }

    [Fact]
    public async Task HealthCheck_SaysWhatToCheck()
    {
        var monitor = Monitor(after: 2);
        var check = new StoreCredentialsHealthCheck(monitor);
        Assert.Equal("No sign that the Store refuses the gateway's credentials.", (await check.CheckHealthAsync(new())).Description);
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        Assert.Equal("The Store refuses many players at once: check the gateway's Store credentials.", (await check.CheckHealthAsync(new())).Description);
    }

    [Fact]
    public async Task HealthCheck_IsDegradedWhileNoServiceTokenIsHeld_AndTheLastAttemptFailed()
    {
        var health = new StoreHealth(_time);
        var check = new StoreCredentialsHealthCheck(Monitor(after: 2), health);
        async Task<(HealthStatus Status, string? Description)> Now()
        {
            var result = await check.CheckHealthAsync(new());
            return (result.Status, result.Description);
        }

        Assert.Equal(HealthStatus.Healthy, (await Now()).Status); // none asked for yet
        health.RecordTokenFailed(StoreHealth.CollectionsTicketName, "invalid_client");
        Assert.Equal(HealthStatus.Healthy, (await Now()).Status); // the ticket is not the service token
        health.RecordTokenFailed(StoreHealth.ServiceTokenName, "invalid_client");
        var failing = await Now();
        Assert.Equal(HealthStatus.Degraded, failing.Status);
        Assert.StartsWith("The gateway holds no Store service token and its last attempt failed (invalid_client)", failing.Description, StringComparison.Ordinal);

        health.RecordTokenAcquired(StoreHealth.ServiceTokenName, new StoreToken("t", _time.GetUtcNow().AddMinutes(60), _time.GetUtcNow()));
        Assert.Equal(HealthStatus.Healthy, (await Now()).Status);
        _time.Advance(TimeSpan.FromMinutes(10));
        health.RecordTokenFailed(StoreHealth.ServiceTokenName, "timeout");
        Assert.Equal(HealthStatus.Healthy, (await Now()).Status); // a refresh failed, the token held is still good
        _time.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(HealthStatus.Degraded, (await Now()).Status); // now expired, and the last attempt failed
        health.RecordTokenAcquired(StoreHealth.ServiceTokenName, new StoreToken("t2", _time.GetUtcNow().AddMinutes(60), _time.GetUtcNow()));
        Assert.Equal(HealthStatus.Healthy, (await Now()).Status);
    }

    [Fact]
    public async Task HealthCheck_WhenSuspectAndFailingTokens_SaysSuspectFirst()
    {
        var monitor = Monitor(after: 2);
        var health = new StoreHealth(_time);
        health.RecordTokenFailed(StoreHealth.ServiceTokenName, "invalid_client");
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");

        var result = await new StoreCredentialsHealthCheck(monitor, health).CheckHealthAsync(new());

        Assert.Equal("The Store refuses many players at once: check the gateway's Store credentials.", result.Description);
    }

    private sealed class Meters : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose() { }
    }

    [Fact]
    public void TheSuspectGauge_IsOneWhileSuspect()
    {
        using var meters = new Meters();
        var monitor = Monitor(after: 2, metrics: new GatewayMetrics(meters));
        var seen = new List<int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name.EndsWith("store.credentials.suspect", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => seen.Add(value));
        listener.Start();

        listener.RecordObservableInstruments();
        Refuse(monitor, "user-a");
        Refuse(monitor, "user-b");
        listener.RecordObservableInstruments();

        Assert.Equal([0, 1], seen);
    }

    private StoreToken TokenAt(TimeSpan offset) => new("t", _time.GetUtcNow() + TimeSpan.FromHours(1), _time.GetUtcNow() + offset);

    [Fact]
    public void TokenPredatesSuspicion_OnlyWhileSuspect_AndOnlyForATokenFromBeforeIt()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60);
        var before = TokenAt(TimeSpan.FromSeconds(-1));
        Assert.False(monitor.TokenPredatesSuspicion(before)); // not suspect

        _time.Advance(TimeSpan.FromSeconds(1));
        Refuse(monitor, "user-a");
        Assert.False(monitor.TokenPredatesSuspicion(before)); // one refusal: not yet
        Assert.True(Refuse(monitor, "user-b"));

        Assert.True(monitor.TokenPredatesSuspicion(before));
        Assert.False(monitor.TokenPredatesSuspicion(TokenAt(TimeSpan.Zero))); // obtained as it began
        Assert.False(monitor.TokenPredatesSuspicion(TokenAt(TimeSpan.FromSeconds(1))));
        Assert.True(monitor.TokenPredatesSuspicion(TokenAt(TimeSpan.FromTicks(-1))));

        // More refusals while suspect do not move its start.
        _time.Advance(TimeSpan.FromSeconds(5));
        Refuse(monitor, "user-c");
        Assert.False(monitor.TokenPredatesSuspicion(TokenAt(TimeSpan.FromSeconds(-2))));
        Assert.True(monitor.TokenPredatesSuspicion(TokenAt(TimeSpan.FromSeconds(-6))));

        // Over once the window (60 s from the last refusal) ends: not at its last instant either.
        _time.Advance(TimeSpan.FromSeconds(60) - TimeSpan.FromTicks(1));
        Assert.True(monitor.TokenPredatesSuspicion(before));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(monitor.TokenPredatesSuspicion(before));
    }

    [Fact]
    public void TokenPredatesSuspicion_AfterTheStoreAcceptsAgain_IsFalse_AndANewSuspicionStartsAfresh()
    {
        var monitor = SuspectAfterGenuineRefusals();
        var before = TokenAt(TimeSpan.FromSeconds(-1));
        Assert.True(monitor.TokenPredatesSuspicion(before));

        monitor.RecordAccepted();
        Assert.False(monitor.TokenPredatesSuspicion(before));

        _time.Advance(TimeSpan.FromSeconds(10));
        var between = TokenAt(TimeSpan.FromSeconds(-5));
        monitor.RecordRefusal("user-a", AcceptedUcid("a"));
        Assert.True(monitor.RecordRefusal("user-b", AcceptedUcid("b")));
        Assert.True(monitor.TokenPredatesSuspicion(between));
    }

    [Fact]
    public void RefusalEarnsANewToken_ForAnOldToken_OrAYoungOneFromBeforeASuspicion_Only()
    {
        var monitor = Monitor(after: 2, windowSeconds: 60); // Store:FreshTokenSeconds is 60 by default
        Assert.True(monitor.RefusalEarnsANewToken(TokenAt(TimeSpan.FromSeconds(-60))));
        var young = TokenAt(TimeSpan.FromSeconds(-59));
        Assert.False(monitor.RefusalEarnsANewToken(young));

        Refuse(monitor, "user-a");
        Assert.True(Refuse(monitor, "user-b"));

        Assert.True(monitor.RefusalEarnsANewToken(young));
        Assert.False(monitor.RefusalEarnsANewToken(TokenAt(TimeSpan.Zero)));
    }
}
