using System.Diagnostics.Metrics;
using EntitlementGateway.Budget;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>What every Store operation does with a failed call: the budget, the refunds, the suspicion, the answer.</summary>
public sealed class StoreFailurePolicyTests : IDisposable
{
    private const string Player = "user-player-1";

    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryUserBudget _budget;
    private readonly StoreCredentialsMonitor _credentials;
    private readonly StoreHealth _health;
    private readonly TestMeters _meters = new();
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, long Value, string? Decision)> _measured = [];
    private readonly WrittenLog<StoreFailurePolicy> _log = new();
    private readonly StoreFailurePolicy _policy;

    public StoreFailurePolicyTests()
    {
        _budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = 10, WindowSeconds = 300 }), _time);
        _credentials = new StoreCredentialsMonitor(Options.Create(new StoreOptions { SuspectCredentialsAfter = 2, SuspectCredentialsWindowSeconds = 60 }),
            _time, NullLogger<StoreCredentialsMonitor>.Instance, accepted: new AcceptedUcids());
        _health = new StoreHealth(_time);
        var metrics = new GatewayMetrics(_meters);
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (_meters.Created(instrument.Meter)) l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? decision = null;
            foreach (var tag in tags)
                if (tag.Key == "budget.decision") decision = (string?)tag.Value;
            lock (_measured) _measured.Add((instrument.Name, value, decision));
        });
        _listener.Start();
        _policy = new StoreFailurePolicy(_budget, _credentials, metrics, _health, _time, _log);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task AnExhaustedBudget_SaysWhenToComeBack_AndLogsIt()
    {
        var state = await StateWithUnitsAsync(0);
        var outcome = await HandleAsync(StoreFailureKind.BudgetExhausted, state, retryAfter: TimeSpan.FromSeconds(7.2));

        Assert.Equal(StoreFailureKind.BudgetExhausted, outcome.Kind);
        Assert.Equal(TimeSpan.FromSeconds(7.2), outcome.RetryAfter);
        Assert.Equal("This player's budget of Store calls is used up; retry after 8 s.", outcome.Detail);
        var line = Assert.Single(_log.Events);
        Assert.Equal(EventIds.BudgetExhausted, line.Id);
        Assert.Equal("Budget exhausted for ucid abcd1234; retry after 7.2 s", line.Text);
        // Not a Store error: the Store was never asked.
        Assert.Empty(Report().RecentErrors);
    }

    [Fact]
    public async Task AnExhaustedBudgetWithoutItsOwnWait_AnswersTheKindsDefault()
    {
        var outcome = await HandleAsync(StoreFailureKind.BudgetExhausted, await StateWithUnitsAsync(0), retryAfter: null);

        Assert.Equal(StoreFailureAnswers.For(StoreFailureKind.BudgetExhausted).DefaultRetryAfter, outcome.RetryAfter);
    }

    [Fact]
    public async Task TheStores429_BlocksThePlayerUntilItsRetryAfter_AndCountsABlockedDecision()
    {
        var state = await StateWithUnitsAsync(1);
        var outcome = await HandleAsync(StoreFailureKind.RateLimited, state, retryAfter: TimeSpan.FromSeconds(30), detail: "The Store's per-user rate limit was reached.");

        Assert.Equal(StoreFailureKind.RateLimited, outcome.Kind);
        Assert.Equal(TimeSpan.FromSeconds(30), outcome.RetryAfter);
        Assert.Equal("The Store's per-user rate limit was reached.", outcome.Detail);
        Assert.Equal(state.Last, outcome.Budget);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(30), (await _budget.GetAsync(Player)).BlockedUntil);
        Assert.Single(_measured, m => m.Decision == BudgetDecisions.Blocked);
        var error = Assert.Single(Report().RecentErrors);
        Assert.Equal(nameof(StoreFailureKind.RateLimited), error.Kind);
        Assert.Equal(1, error.Count);
        // The unit the 429 took stays spent: the Store counted that call.
        Assert.Equal(1, (await _budget.GetAsync(Player)).Used);
    }

    [Fact]
    public async Task TheStores429WithoutRetryAfter_BlocksForTheKindsDefault()
    {
        await HandleAsync(StoreFailureKind.RateLimited, await StateWithUnitsAsync(1), retryAfter: null);

        var wait = StoreFailureAnswers.For(StoreFailureKind.RateLimited).DefaultRetryAfter!.Value;
        Assert.Equal(_time.GetUtcNow() + wait, (await _budget.GetAsync(Player)).BlockedUntil);
    }

    [Fact]
    public async Task ARefusedUcid_RefundsOnlyThisCallsUnits_AndTellsThePlayerToMintANewOne()
    {
        // One unit for an earlier page (it was served: it stays spent), then two attempts at this one.
        var state = await StateWithUnitsAsync(3);
        var lastGranted = state.LastGranted!.Value;

        var outcome = await HandleAsync(StoreFailureKind.UcidRefused, state, leasesBefore: 1);

        Assert.Equal(StoreFailureKind.UcidRefused, outcome.Kind);
        Assert.Null(outcome.RetryAfter);
        Assert.Equal("The Store refused this UserCollectionsId (forged, revoked or minted for another app); mint a new one.", outcome.Detail);
        Assert.Equal(lastGranted with { Remaining = lastGranted.Remaining + 2 }, outcome.Budget);
        Assert.Equal(1, (await _budget.GetAsync(Player)).Used);
        Assert.Equal(2, _measured.Count(m => m.Instrument.EndsWith("budget.units.refunded", StringComparison.Ordinal)));
        var line = Assert.Single(_log.Events);
        Assert.Equal(EventIds.UcidRejected, line.Id);
        Assert.Equal("The Store refused ucid abcd1234; its budget units were refunded", line.Text);
        Assert.False(_credentials.IsSuspect);
        Assert.Equal(nameof(StoreFailureKind.UcidRefused), Assert.Single(Report().RecentErrors).Kind);
    }

    [Fact]
    public async Task RefusedUcidsOfManyPlayers_AreAnsweredAsSuspectCredentials()
    {
        await HandleAsync(StoreFailureKind.UcidRefused, await StateWithUnitsAsync(1, "user-a"), budgetKey: "user-a");
        var outcome = await HandleAsync(StoreFailureKind.UcidRefused, await StateWithUnitsAsync(1, "user-b"), budgetKey: "user-b");

        Assert.Equal(StoreFailureKind.CredentialsSuspect, outcome.Kind);
        Assert.Equal("The Store is refusing many players at once; the gateway's own Store credentials are being checked. Retry later.", outcome.Detail);
        Assert.True(_credentials.IsSuspect);
        // Only the first player's refusal was the player's own.
        Assert.Single(_log.Events, l => l.Id == EventIds.UcidRejected);
        Assert.Equal(0, (await _budget.GetAsync("user-b")).Used);
    }

    [Fact]
    public async Task ARefusedXboxToken_RefundsItsUnits_ButNeverMakesTheCredentialsSuspect()
    {
        var first = await HandleAsync(StoreFailureKind.XboxTokenRefused, await StateWithUnitsAsync(2, "xbl-1"), budgetKey: "xbl-1", ucid: false);
        var second = await HandleAsync(StoreFailureKind.XboxTokenRefused, await StateWithUnitsAsync(1, "xbl-2"), budgetKey: "xbl-2", ucid: false);
        await HandleAsync(StoreFailureKind.XboxTokenRefused, await StateWithUnitsAsync(1, "xbl-3"), budgetKey: "xbl-3", ucid: false);

        Assert.Equal(StoreFailureKind.XboxTokenRefused, first.Kind);
        Assert.Equal(StoreFailureKind.XboxTokenRefused, second.Kind);
        Assert.Equal("The Store refused this Xbox authorization (expired, for another relying party, or a signature that does not match); get a new token and signature.", first.Detail);
        Assert.Equal(10, first.Budget!.Value.Remaining);
        Assert.Equal(0, (await _budget.GetAsync("xbl-1")).Used);
        Assert.False(_credentials.IsSuspect);
        Assert.Empty(_log.Events);
    }

    [Fact]
    public async Task ARefusalBeforeAnyUnitWasGranted_AnswersTheLastDecision()
    {
        var state = new StoreCallState(Player, "cv");
        state.Record(BudgetDecision.Denied(0, TimeSpan.FromSeconds(3)));

        var outcome = await HandleAsync(StoreFailureKind.UcidRefused, state);

        Assert.Equal(state.Last, outcome.Budget);
    }

    [Fact]
    public async Task AnyOtherFailure_IsAnsweredAsItCame()
    {
        var state = await StateWithUnitsAsync(1);
        var outcome = await HandleAsync(StoreFailureKind.Unavailable, state, retryAfter: TimeSpan.FromSeconds(4), detail: "The Store is unavailable.");

        Assert.Equal(new StoreFailureOutcome(StoreFailureKind.Unavailable, state.Last, TimeSpan.FromSeconds(4), "The Store is unavailable."), outcome);
        Assert.Equal(1, (await _budget.GetAsync(Player)).Used);
        Assert.Equal(nameof(StoreFailureKind.Unavailable), Assert.Single(Report().RecentErrors).Kind);
    }

    [Fact]
    public async Task NoResultOrNoState_IsRefused()
    {
        var state = new StoreCallState(Player, "cv");
        await Assert.ThrowsAsync<ArgumentNullException>(() => _policy.HandleAsync<object>("abcd1234", Player, null, null!, state, 0, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _policy.HandleAsync("abcd1234", Player, null,
            StoreCallResult<object>.Fail(StoreFailureKind.Error, "x"), null!, 0, CancellationToken.None));
    }

    private async Task<StoreFailureOutcome> HandleAsync(StoreFailureKind kind, StoreCallState state, TimeSpan? retryAfter = null, string detail = "failed",
        int leasesBefore = 0, string budgetKey = Player, bool ucid = true)
    {
        var credential = ucid ? UserCollectionsId.TryParse(TestUcid.Create(_time.GetUtcNow(), userId: budgetKey["user-".Length..]), out _) : null;
        return await _policy.HandleAsync("abcd1234", budgetKey, credential, StoreCallResult<object>.Fail(kind, detail, retryAfter), state, leasesBefore,
            CancellationToken.None);
    }

    /// <summary>A call's state after <paramref name="units"/> attempts, each with a unit of <paramref name="key"/>'s budget.</summary>
    private async Task<StoreCallState> StateWithUnitsAsync(int units, string key = Player)
    {
        var state = new StoreCallState(key, "cv");
        for (var i = 0; i < units; i++) state.Record(await _budget.TryAcquireAsync(key));
        return state;
    }

    private StoreHealthReport Report() => _health.Report(
        new StoreResiliencePipelines(Options.Create(new ResilienceOptions()), _time, NullLogger<StoreResiliencePipelines>.Instance), _credentials);
}
