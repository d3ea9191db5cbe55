using EntitlementGateway.Consumables;

namespace EntitlementGateway.Clawback;

/// <summary>
/// A consume's order ids go into the order book, so a refund or chargeback of a consumable (an event that names only the
/// order) is brought home to the player whose balance went down. Idempotent: recording the same ids again only renews them.
/// </summary>
public sealed class ConsumedOrders(OrderBook orders) : IConsumeListener
{
    public Task ConsumedAsync(ConsumeReceipt receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        return orders.RecordAsync(receipt.BudgetKey, receipt.OrderIds, cancellationToken);
    }
}
