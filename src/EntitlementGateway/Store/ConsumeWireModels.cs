using System.Text.Json.Serialization;

namespace EntitlementGateway.Store;

// Wire models of the Store's v8 consume call (POST /v8.0/collections/consume), with its exact field names.

/// <summary>Body of <c>POST /v8.0/collections/consume</c> for a Store-managed consumable.</summary>
public sealed record ConsumeStoreRequest
{
    /// <summary>One beneficiary (not a list, unlike the query): the UCID of the player whose balance goes down; left out
    /// when the call carries the player's delegated Xbox authorization instead.</summary>
    [JsonPropertyName("beneficiary")] public ConsumeBeneficiary? Beneficiary { get; init; }
    [JsonPropertyName("productId")] public required string ProductId { get; init; }
    [JsonPropertyName("removeQuantity")] public required int RemoveQuantity { get; init; }
    /// <summary>The GUID that makes a resubmission a confirmation rather than a second consume.</summary>
    [JsonPropertyName("trackingId")] public required string TrackingId { get; init; }
    [JsonPropertyName("includeOrderIds")] public bool IncludeOrderIds { get; init; } = true;
}

/// <summary>The Store's answer to a consume (also to a resubmission with the same trackingId).</summary>
public sealed record ConsumeStoreResponse
{
    [JsonPropertyName("itemId")] public string? ItemId { get; init; }
    [JsonPropertyName("newQuantity"), JsonConverter(typeof(StoreQuantityConverter))] public int? NewQuantity { get; init; }
    [JsonPropertyName("productId")] public string? ProductId { get; init; }
    [JsonPropertyName("trackingId")] public string? TrackingId { get; init; }
    [JsonPropertyName("orderTransactions")] public IReadOnlyList<StoreOrderTransaction>? OrderTransactions { get; init; }
}

/// <summary>One order (and line item) a consume drew its quantity from.</summary>
public sealed record StoreOrderTransaction
{
    [JsonPropertyName("orderId"), JsonConverter(typeof(StoreTextConverter))] public string? OrderId { get; init; }
    [JsonPropertyName("orderLineItemId"), JsonConverter(typeof(StoreTextConverter))] public string? OrderLineItemId { get; init; }
    [JsonPropertyName("quantityConsumed"), JsonConverter(typeof(StoreQuantityConverter))] public int? QuantityConsumed { get; init; }
}

/// <summary>The Store's error body for consume: a code, a message and an inner error with the consume service's own code.</summary>
public sealed record StoreErrorBody
{
    [JsonPropertyName("code"), JsonConverter(typeof(StoreTextConverter))] public string? Code { get; init; }
    [JsonPropertyName("message"), JsonConverter(typeof(StoreTextConverter))] public string? Message { get; init; }
    [JsonPropertyName("innererror")] public StoreErrorBody? InnerError { get; init; }
}
