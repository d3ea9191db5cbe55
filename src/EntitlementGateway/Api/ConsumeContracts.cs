namespace EntitlementGateway.Api;

/// <summary>A game's request to consume (fulfil) a Store-managed consumable for a player.</summary>
/// <param name="UserCollectionsId">The player's UserCollectionsId (from XStoreGetUserCollectionsIdAsync); or send <paramref name="Xbox"/>.</param>
/// <param name="ProductId">The consumable's Store ID: 12 upper-case letters or digits.</param>
/// <param name="Quantity">How many to remove from the player's balance (1 or more).</param>
/// <param name="TrackingId">A GUID the game creates once per purchase it fulfils, and sends again (unchanged) on every retry.</param>
/// <param name="Xbox">Instead of a UCID: the player's delegated Xbox authorization (XSTS token for the Store and its signature).</param>
public sealed record ConsumeRequest(string? UserCollectionsId, string? ProductId, int? Quantity, string? TrackingId, XboxCredentials? Xbox = null);

/// <summary>The consume done (now, or earlier under this trackingId: then the same answer, with <c>Idempotent-Replayed: true</c>).</summary>
/// <param name="ProductId">The consumable.</param>
/// <param name="TrackingId">The trackingId, as the gateway sent it to the Store (lower-case GUID).</param>
/// <param name="NewQuantity">The player's balance after the consume, as the Store answered it then.</param>
/// <param name="OrderTransactions">The orders the quantity was taken from.</param>
public sealed record ConsumeResponse(string ProductId, string TrackingId, int NewQuantity, IReadOnlyList<ConsumeOrderTransaction> OrderTransactions);

/// <summary>An order (line item) a consume took its quantity from.</summary>
/// <param name="OrderId">The Store order id (a refund or chargeback names it).</param>
/// <param name="OrderLineItemId">The line item within the order.</param>
/// <param name="QuantityConsumed">How many came from this line item.</param>
public sealed record ConsumeOrderTransaction(string? OrderId, string? OrderLineItemId, int QuantityConsumed);
