using System.Text.Json;
using System.Text.Json.Serialization;
using EntitlementGateway.Budget;
using EntitlementGateway.Store;

namespace EntitlementGateway.Consumables;

/// <summary>A validated consume: whose (a UCID or the player's delegated Xbox authorization, and the budget key), which
/// product, how many, under which trackingId.</summary>
public sealed record ConsumeCommand(UserCollectionsId? Ucid, XboxAuthorization? Xbox, string BudgetKey, string ProductId, int Quantity, string TrackingId)
{
    /// <summary>A short hash of the credential, for logs.</summary>
    public string Fingerprint => Ucid?.Fingerprint ?? Xbox!.Fingerprint;
}

/// <summary>One order (and line item) a consume drew its quantity from: what a refund or chargeback names.</summary>
public sealed record ConsumedOrder(string? OrderId, string? OrderLineItemId, int QuantityConsumed);

/// <summary>A consume the Store confirmed.</summary>
/// <param name="BudgetKey">The player (budget key) whose balance went down.</param>
/// <param name="ProductId">The consumable.</param>
/// <param name="TrackingId">The game's trackingId for this fulfilment.</param>
/// <param name="NewQuantity">The balance left, as the Store answered.</param>
/// <param name="ItemId">The collection item the Store consumed from.</param>
/// <param name="OrderTransactions">The orders the quantity came from (requested with includeOrderIds).</param>
public sealed record ConsumeReceipt(string BudgetKey, string ProductId, string TrackingId, int NewQuantity, string? ItemId,
    IReadOnlyList<ConsumedOrder> OrderTransactions)
{
    /// <summary>The distinct order ids, for mapping refunds and chargebacks back to this player.</summary>
    [JsonIgnore] public IReadOnlyList<string> OrderIds => OrderTransactions.Select(o => o.OrderId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
}

/// <summary>A final refusal or a ledger answer, as a problem: status, stable code, title, detail, and the wait.</summary>
public sealed record ConsumeProblem(int Status, string Code, string Title, string Detail, TimeSpan? RetryAfter = null);

/// <summary>The answer to one consume request.</summary>
/// <param name="Receipt">The consume happened (now, or earlier under this trackingId).</param>
/// <param name="Problem">A final refusal (recorded) or a ledger answer (reused, in progress, unavailable).</param>
/// <param name="Failure">A Store failure: the outcome is not known, and the same request may be sent again.</param>
/// <param name="Budget">The last budget decision (none when no Store call was made).</param>
/// <param name="Replayed">The answer came from the ledger, with no Store call and no budget unit.</param>
public sealed record ConsumeOutcome(ConsumeReceipt? Receipt, ConsumeProblem? Problem, StoreFailureOutcome? Failure, BudgetDecision? Budget, bool Replayed)
{
    /// <summary>The Store answered this request's credentials (a consume, a refusal of the product, or a confirmation).</summary>
    public bool StoreAccepted { get; init; }

    /// <summary>The failure is of a replay's confirmation: the consume itself is recorded, only its receipt is held back.</summary>
    public bool ReplayUnconfirmed { get; init; }
}

/// <summary>What the ledger keeps for a final outcome: the receipt, or the refusal.</summary>
public sealed record RecordedConsume(ConsumeReceipt? Receipt, ConsumeProblem? Problem);

/// <summary>
/// Told of every consume the Store confirmed (not of ledger replays), after the ledger recorded it; for example to
/// remember which player an order id belongs to. The same consume may be told twice (a replica died after the Store
/// answered, another resent it), so a listener is idempotent on the order ids. A listener's failure is logged and never
/// fails the consume.
/// </summary>
public interface IConsumeListener
{
    Task ConsumedAsync(ConsumeReceipt receipt, CancellationToken cancellationToken);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecordedConsume))]
internal sealed partial class LedgerJsonContext : JsonSerializerContext;
