using System.Text.Json;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Consumables;

/// <summary>
/// Consume, exactly once per trackingId: claim the trackingId in the ledger (waiting a bounded time while another request
/// holds it), call the Store's consume through the Collections client (token, one budget unit per attempt, circuit,
/// timeouts), record a final outcome (consumed, or refused for good) and replay it to every later request with the same
/// trackingId and request, with no Store call. A failure whose outcome is unknown is never recorded: the claim is released
/// and the next request resends the consume with the same trackingId, which the Store answers as a confirmation.
/// A recorded receipt names the player's balance and orders, so it is replayed only to credentials the Store has accepted:
/// a UCID this replica remembers as answered for; any other (a forged UCID that carries the player's id, an X-token, or
/// any credential after a restart) is shown to the Store first in a one-product query, which changes no balance. The
/// consume itself is never sent again for a recorded outcome: that stays exactly once whatever the Store remembers.
/// The Store call runs to its own deadline (Resilience:TotalTimeoutSeconds) even when the caller goes away, so its
/// outcome still reaches the ledger.
/// </summary>
public sealed partial class ConsumeService(
    IConsumeLedger ledger,
    CollectionsClient store,
    StoreFailurePolicy failures,
    StoreCredentialsMonitor credentials,
    ResultCache cache,
    AcceptedUcids accepted,
    UnprovenCallGate gate,
    IEnumerable<IConsumeListener> listeners,
    IOptions<ConsumeOptions> options,
    IOptions<StoreOptions> storeOptions,
    IOptions<ResilienceOptions> resilience,
    TimeProvider time,
    ILogger<ConsumeService> logger,
    ConsumeLedgerFailures ledgerFailures)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public async Task<ConsumeOutcome> ConsumeAsync(ConsumeCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var fingerprint = ConsumeFingerprint.Of(command.BudgetKey, command.ProductId, command.Quantity);
        var owner = Guid.NewGuid().ToString("N");
        LedgerClaim claim;
        try
        {
            claim = await ClaimAsync(command, fingerprint, owner, cancellationToken);
        }
        catch (ConsumeLedgerUnavailableException ex)
        {
            LogLedgerFailed(logger, ledgerFailures.Next(), command.TrackingId, ex.InnerException?.GetType().Name ?? "unknown");
            // A stalled Redis may still run the claim once it wakes: nobody would own it, and the retry this answer asks
            // for would wait out the lease. Releasing it, sent after the claim, undoes it then; the release only touches
            // this request's own pending claim.
            try { await ledger.ReleaseAsync(command.TrackingId, owner, CancellationToken.None); }
            catch (ConsumeLedgerUnavailableException) { }
            return Answer(new ConsumeProblem(503, GatewayProblems.ConsumeLedgerUnavailable, "The consume ledger is unavailable.",
                "The gateway cannot reach its consume ledger (Redis), so it does not consume now; retry with the same trackingId.", TimeSpan.FromSeconds(5)));
        }

        switch (claim.State)
        {
            case LedgerState.Reused:
                return Answer(new ConsumeProblem(409, GatewayProblems.TrackingIdReused, "The trackingId was used for another consume.",
                    ReusedDetail(command.BudgetKey)));
            case LedgerState.Pending:
                return Answer(new ConsumeProblem(409, GatewayProblems.ConsumeInProgress, "A consume with this trackingId is in progress.",
                    "Another request is consuming with this trackingId right now; retry with the same request to get its outcome.", TimeSpan.FromSeconds(1)));
            case LedgerState.Recorded:
                var recorded = JsonSerializer.Deserialize(claim.Outcome ?? "{}", LedgerJsonContext.Default.RecordedConsume);
                if (recorded?.Receipt is { } receipt && !accepted.Holds(command.Ucid)) return await ConfirmAsync(command, receipt);
                LogReplayed(logger, command.TrackingId);
                return new ConsumeOutcome(recorded?.Receipt, recorded?.Problem, null, null, Replayed: true);
            case LedgerState.TakenOver:
                LogTakenOver(logger, command.TrackingId);
                break;
        }
        // A trackingId an earlier request may have sent (its outcome unknown, or its replica gone) may be one the Store is
        // still applying.
        return await CallStoreAsync(command, fingerprint, owner, sentBefore: claim.State is LedgerState.Resumed or LedgerState.TakenOver, claim.FirstClaimedAt);
    }

    private static ConsumeOutcome Answer(ConsumeProblem problem) => new(null, problem, null, null, Replayed: false);

    /// <summary>
    /// The recorded receipt, once the Store has accepted this request's credentials in a query of the consumed product (one
    /// budget unit, no balance changed; its answer is not used). A refused credential gets the Store's refusal.
    /// </summary>
    private async Task<ConsumeOutcome> ConfirmAsync(ConsumeCommand command, ConsumeReceipt receipt)
    {
        // The first page of a player's query of that one product, asked as every query is (version, credential, sandbox).
        var query = new EntitlementQuery(command.Ucid, command.BudgetKey, [new ProductSelector(command.ProductId, null)], null,
            IncludeSatisfyingItems: false, storeOptions.Value.QueryApi, command.Xbox);
        var state = new StoreCallState(command.BudgetKey, StoreWire.NewCorrelationVector(), command.Xbox)
        {
            Unproven = UnprovenCallGate.IsUnproven(command.BudgetKey, command.Ucid, accepted),
            StopWaitingAt = gate.StopWaitingAt(resilience.Value.TotalTimeout),
        };
        using var deadline = new CancellationTokenSource(resilience.Value.TotalTimeout, time);
        StoreCallResult<B2bLicensePreviewResponse> result;
        try
        {
            result = await CollectionsPages.For(query, storeOptions.Value, store, state).NextAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            result = StoreCallResult<B2bLicensePreviewResponse>.Fail(StoreFailureKind.Timeout, "The Store did not answer in time.");
        }
        if (result.Answer is not null)
        {
            credentials.RecordAccepted();
            LogReplayedConfirmed(logger, command.TrackingId);
            return new ConsumeOutcome(receipt, null, null, state.Last, Replayed: true) { StoreAccepted = true };
        }
        var failure = await failures.HandleAsync(command.Fingerprint, command.BudgetKey, command.Ucid, result, state, 0, CancellationToken.None);
        return new ConsumeOutcome(null, null, failure, failure.Budget, Replayed: false) { ReplayUnconfirmed = true };
    }

    private async Task<LedgerClaim> ClaimAsync(ConsumeCommand command, string fingerprint, string owner, CancellationToken cancellationToken)
    {
        var waitUntil = time.GetUtcNow() + TimeSpan.FromSeconds(options.Value.WaitForPendingSeconds);
        while (true)
        {
            var claim = await ledger.ClaimAsync(command.TrackingId, fingerprint, owner, cancellationToken);
            if (claim.State != LedgerState.Pending || time.GetUtcNow() >= waitUntil) return claim;
            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private async Task<ConsumeOutcome> CallStoreAsync(ConsumeCommand command, string fingerprint, string owner, bool sentBefore, DateTimeOffset? firstClaimedAt)
    {
        var request = new ConsumeStoreRequest
        {
            Beneficiary = command.Ucid is { } ucid ? new ConsumeBeneficiary("b2b", ucid.Value, "") : null,
            ProductId = command.ProductId,
            RemoveQuantity = command.Quantity,
            TrackingId = command.TrackingId,
            IncludeOrderIds = true,
        };
        var state = new StoreCallState(command.BudgetKey, StoreWire.NewCorrelationVector(), command.Xbox)
        {
            Unproven = UnprovenCallGate.IsUnproven(command.BudgetKey, command.Ucid, accepted),
            StopWaitingAt = gate.StopWaitingAt(resilience.Value.TotalTimeout),
        };
        using var deadline = new CancellationTokenSource(resilience.Value.TotalTimeout, time);
        StoreCallResult<ConsumeAnswer> result;
        try
        {
            result = await store.ConsumeAsync(request, command.Fingerprint, state, deadline.Token);
        }
        catch (OperationCanceledException)
        {
            result = StoreCallResult<ConsumeAnswer>.Fail(StoreFailureKind.Timeout, "The Store did not answer in time.");
        }

        if (result.Answer?.Consumed is { } confirmed && Mismatch(confirmed, command) is { } mismatch)
        {
            // An answer meant for another request (a confused front end, a Store fault) must not become this trackingId's
            // receipt for its whole retention: the outcome is unknown, and a retry resends the consume.
            result = StoreCallResult<ConsumeAnswer>.Fail(StoreFailureKind.Error, $"The Store's consume answer does not match the request: {mismatch}.");
        }
        if (result.Answer?.Consumed is { } answer)
        {
            credentials.RecordAccepted();
            var receipt = new ConsumeReceipt(command.BudgetKey, answer.ProductId ?? command.ProductId, command.TrackingId, answer.NewQuantity!.Value,
                answer.ItemId, (answer.OrderTransactions ?? []).Select(o => new ConsumedOrder(o.OrderId, o.OrderLineItemId, o.QuantityConsumed ?? 0)).ToList());
            await RecordAsync(command, fingerprint, new RecordedConsume(receipt, null));
            LogConsumed(logger, command.ProductId, command.Quantity, command.TrackingId, command.Fingerprint, receipt.NewQuantity);
            // Quantities changed: no replica may answer this player's queries from before the consume.
            await cache.DropPlayerAsync(command.BudgetKey, CancellationToken.None);
            foreach (var listener in listeners)
            {
                try { await listener.ConsumedAsync(receipt, CancellationToken.None); }
                catch (Exception ex) { LogListenerFailed(logger, listener.GetType().Name, command.TrackingId, ex); }
            }
            return new ConsumeOutcome(receipt, null, null, state.Last, Replayed: false) { StoreAccepted = true };
        }

        if (result.Answer?.Refusal is ConsumeRefusal.TrackingIdConflict && (sentBefore || state.Leases.Count > 1) && !ConflictOutlasted(firstClaimedAt))
        {
            // This trackingId went to the Store before with these very values (an earlier attempt of this request, or an
            // earlier request whose outcome was unknown), so the Store's conflict is most likely that consume, still being
            // applied: not a final refusal, and never advice to take a new trackingId, which would consume twice.
            credentials.RecordAccepted();
            await ReleaseAsync(command, owner);
            await cache.DropPlayerAsync(command.BudgetKey, CancellationToken.None);
            LogConflictWithItself(logger, command.TrackingId);
            return new ConsumeOutcome(null, new ConsumeProblem(409, GatewayProblems.ConsumeInProgress, "A consume with this trackingId is in progress.",
                $"The Store reports this trackingId as in use, and the gateway has sent it only for this request: the Store is most likely still applying it. Retry with the same request (same trackingId) to get its outcome; do not use a new trackingId for it. ({result.Answer.Detail})",
                TimeSpan.FromSeconds(2)), null, state.Last, Replayed: false) { StoreAccepted = true };
        }

        if (result.Answer?.Refusal is { } refusal)
        {
            credentials.RecordAccepted();
            var problem = refusal switch
            {
                ConsumeRefusal.InsufficientQuantity => new ConsumeProblem(409, GatewayProblems.InsufficientQuantity, "The player's balance is too small.",
                    $"The Store refused to consume {command.Quantity} of {command.ProductId}: the player's balance is smaller. ({result.Answer.Detail})"),
                ConsumeRefusal.TrackingIdConflict => new ConsumeProblem(409, GatewayProblems.TrackingIdReused, "The trackingId was used for another consume.",
                    $"{StoreHoldsTrackingIdDetail} ({result.Answer.Detail})"),
                _ => new ConsumeProblem(400, GatewayProblems.ProductNotConsumable, "The product is not a consumable.",
                    $"The Store refused to consume {command.ProductId}: it is not a Store-managed consumable. ({result.Answer.Detail})"),
            };
            await RecordAsync(command, fingerprint, new RecordedConsume(null, problem));
            LogRefused(logger, command.ProductId, command.TrackingId, problem.Code);
            return new ConsumeOutcome(null, problem, null, state.Last, Replayed: false) { StoreAccepted = true };
        }

        // No attempt can have consumed (none reached the Store whole, or each was refused for its credential): a new
        // claim leaves nothing behind, so the player may send this trackingId again with another credential (an X-token
        // refused, then the UCID). A trackingId sent before stays bound to its request: that sending's outcome is unknown.
        await ReleaseAsync(command, owner, forget: !sentBefore && !state.MayHaveActed);
        // The Store may have consumed: an answer cached before it would show the old balance, so it goes too.
        await cache.DropPlayerAsync(command.BudgetKey, CancellationToken.None);
        var failure = await failures.HandleAsync(command.Fingerprint, command.BudgetKey, command.Ucid, result, state, 0, CancellationToken.None);
        // No attempt took a unit (the budget, Redis or the open circuit refused first): it was never sent, so its outcome is known.
        if (state.Leases.Count == 0) LogNotSent(logger, command.TrackingId, failure.Kind.ToString());
        else LogUnknownOutcome(logger, command.TrackingId, failure.Kind.ToString());
        return new ConsumeOutcome(null, null, failure, failure.Budget, Replayed: false);
    }

    /// <summary>
    /// The Store has named this trackingId as in use for longer than a consume takes to apply (Consume:InProgressConflictSeconds
    /// since its first sending): it holds it for other values, and its 409 is final.
    /// </summary>
    private bool ConflictOutlasted(DateTimeOffset? firstClaimedAt) =>
        firstClaimedAt is { } first && time.GetUtcNow() - first >= options.Value.InProgressConflict;

    /// <summary>
    /// The attempt ended without a final outcome: the trackingId stays bound to this request, unknown; or, with
    /// <paramref name="forget"/> (the Store provably did not act on this new claim), it is free again. Should the ledger
    /// not answer a forget, the claim runs out with its lease and is then owned anew as unknown: safe, if stricter.
    /// </summary>
    private async Task ReleaseAsync(ConsumeCommand command, string owner, bool forget = false)
    {
        try { await (forget ? ledger.ForgetAsync(command.TrackingId, owner, CancellationToken.None) : ledger.ReleaseAsync(command.TrackingId, owner, CancellationToken.None)); }
        catch (ConsumeLedgerUnavailableException ex) { LogLedgerFailed(logger, ledgerFailures.Next(), command.TrackingId, ex.InnerException?.GetType().Name ?? "unknown"); }
    }

    /// <summary>
    /// The Store's 409 for a trackingId the gateway sends for the first time. Its ledger may have lost an earlier sending
    /// (an in-memory ledger restarted, a record past its retention) that the Store is still applying, so the answer never
    /// tells the game to take a new trackingId outright: that could make the player pay twice.
    /// </summary>
    internal const string StoreHoldsTrackingIdDetail =
        "The Store holds this trackingId for another consume, or is still applying an earlier sending of it that this gateway has no record of (a gateway restarted without a shared ledger). If this fulfilment may have used the trackingId before, read the player's balance before consuming again with a new trackingId; a fulfilment that never used it needs a new one.";

    /// <summary>
    /// Why a trackingId is refused as reused. Without a userId the player is a hash of the whole UCID, so a renewed UCID of
    /// the same player looks like another one: advice to create a new trackingId could then make the player pay twice.
    /// </summary>
    internal static string ReusedDetail(string budgetKey) => budgetKey.StartsWith("ucid-", StringComparison.Ordinal)
        ? "This trackingId already belongs to a consume of another player, product or quantity. This UCID carries no userId, so the gateway cannot tell a renewed UCID of the same player from another player: send the consume with the UCID it was first sent with, or mint UCIDs with a publisherUserId. Do not use a new trackingId for the same fulfilment until its first outcome is known, or the player may pay twice."
        : "This trackingId already belongs to a consume of another player, product or quantity. If that consume's outcome was not known (a 502, 503 or 504), send it again unchanged to learn it before consuming with a new trackingId, or the player may pay twice; otherwise create a new trackingId per fulfilment.";

    /// <summary>What in a consume answer contradicts the request (another product or trackingId, a negative balance);
    /// null when nothing does. A field the Store left out contradicts nothing.</summary>
    internal static string? Mismatch(ConsumeStoreResponse answer, ConsumeCommand command)
    {
        if (answer.NewQuantity < 0) return "a negative balance";
        if (answer.ProductId is { } product && !string.Equals(product, command.ProductId, StringComparison.OrdinalIgnoreCase)) return "another product";
        if (answer.TrackingId is { } tracking && !(Guid.TryParse(tracking, out var id) && Guid.TryParse(command.TrackingId, out var sent) && id == sent))
            return "another trackingId";
        return null;
    }

    /// <summary>A final outcome into the ledger. When that fails the answer still goes out; the claim's lease then runs
    /// out and a retry resends the consume, which the Store confirms without consuming again.</summary>
    private async Task RecordAsync(ConsumeCommand command, string fingerprint, RecordedConsume outcome)
    {
        try
        {
            await ledger.CompleteAsync(command.TrackingId, fingerprint, JsonSerializer.Serialize(outcome, LedgerJsonContext.Default.RecordedConsume), CancellationToken.None);
        }
        catch (ConsumeLedgerUnavailableException ex)
        {
            LogLedgerFailed(logger, ledgerFailures.Next(), command.TrackingId, ex.InnerException?.GetType().Name ?? "unknown");
        }
    }

    [LoggerMessage(EventId = EventIds.Consumed, EventName = nameof(EventIds.Consumed), Level = LogLevel.Information, Message = "Consumed {Quantity} of {ProductId} (trackingId {TrackingId}) for ucid {UcidHash}; balance now {NewQuantity}")]
    private static partial void LogConsumed(ILogger logger, string productId, int quantity, string trackingId, string ucidHash, int newQuantity);

    [LoggerMessage(EventId = EventIds.ConsumeReplayed, EventName = nameof(EventIds.ConsumeReplayed), Level = LogLevel.Information, Message = "Consume trackingId {TrackingId} answered from the ledger, no Store call")]
    private static partial void LogReplayed(ILogger logger, string trackingId);

    [LoggerMessage(EventId = EventIds.ConsumeReplayConfirmed, EventName = nameof(EventIds.ConsumeReplayConfirmed), Level = LogLevel.Information, Message = "Consume trackingId {TrackingId} answered from the ledger once the Store accepted the caller's credentials in a query (the consume was not sent again)")]
    private static partial void LogReplayedConfirmed(ILogger logger, string trackingId);

    [LoggerMessage(EventId = EventIds.ConsumeRefused, EventName = nameof(EventIds.ConsumeRefused), Level = LogLevel.Information, Message = "The Store refused to consume {ProductId} (trackingId {TrackingId}): {Code}")]
    private static partial void LogRefused(ILogger logger, string productId, string trackingId, string code);

    [LoggerMessage(EventId = EventIds.ConsumeNotSent, EventName = nameof(EventIds.ConsumeNotSent), Level = LogLevel.Information, Message = "Consume trackingId {TrackingId} was not sent to the Store ({Failure}); a retry with the same trackingId sends it")]
    private static partial void LogNotSent(ILogger logger, string trackingId, string failure);

    [LoggerMessage(EventId = EventIds.ConsumeUnknownOutcome, EventName = nameof(EventIds.ConsumeUnknownOutcome), Level = LogLevel.Warning, Message = "Consume trackingId {TrackingId} ended without a known outcome ({Failure}); a retry with the same trackingId resends it")]
    private static partial void LogUnknownOutcome(ILogger logger, string trackingId, string failure);

    [LoggerMessage(EventId = EventIds.ConsumeConflictWithItself, EventName = nameof(EventIds.ConsumeConflictWithItself), Level = LogLevel.Warning, Message = "Consume trackingId {TrackingId}: the Store reports the trackingId in use, and it was sent before only for this request; not recorded, the caller is asked to retry it")]
    private static partial void LogConflictWithItself(ILogger logger, string trackingId);

    [LoggerMessage(EventId = EventIds.ConsumeTakenOver, EventName = nameof(EventIds.ConsumeTakenOver), Level = LogLevel.Warning, Message = "Consume trackingId {TrackingId} was pending past its lease (its replica died?); resending it")]
    private static partial void LogTakenOver(ILogger logger, string trackingId);

    [LoggerMessage(EventId = EventIds.ConsumeLedgerFailed, EventName = nameof(EventIds.ConsumeLedgerFailed), Message = "The consume ledger failed ({Reason}) for trackingId {TrackingId}; further failures within 10 s are logged at Debug")]
    private static partial void LogLedgerFailed(ILogger logger, LogLevel level, string trackingId, string reason);

    [LoggerMessage(EventId = EventIds.ConsumeListenerFailed, EventName = nameof(EventIds.ConsumeListenerFailed), Level = LogLevel.Error, Message = "Consume listener {Listener} failed for trackingId {TrackingId}")]
    private static partial void LogListenerFailed(ILogger logger, string listener, string trackingId, Exception exception);
}
