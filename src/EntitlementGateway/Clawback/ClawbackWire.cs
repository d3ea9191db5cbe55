using System.Text.Json.Serialization;
using EntitlementGateway.Store;

namespace EntitlementGateway.Clawback;

// Wire models of Clawback v2 with the documented field names: the sastoken answer, and the event a queue message
// carries (base64 JSON in MessageText). Read leniently: unknown fields ignored, optional ones may be missing.

/// <summary>The answer of <c>GET /v8.0/b2b/clawback/sastoken</c>.</summary>
public sealed record SasTokenResponse
{
    [JsonPropertyName("expiresOn"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? ExpiresOn { get; init; }
    [JsonPropertyName("uri")] public string? Uri { get; init; }
}

/// <summary>A clawback event (the CloudEvents-shaped envelope around a <c>ClawbackEventContractV2</c>).</summary>
public sealed record ClawbackEvent
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("source")] public string? Source { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("time"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? Time { get; init; }
    [JsonPropertyName("data")] public ClawbackEventData? Data { get; init; }
}

public sealed record ClawbackEventData
{
    [JsonPropertyName("orderId")] public string? OrderId { get; init; }
    [JsonPropertyName("lineItemId")] public string? LineItemId { get; init; }
    [JsonPropertyName("productId")] public string? ProductId { get; init; }
    [JsonPropertyName("productType")] public string? ProductType { get; init; }
    [JsonPropertyName("skuId")] public string? SkuId { get; init; }
    [JsonPropertyName("purchasedDate"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? PurchasedDate { get; init; }
    [JsonPropertyName("eventDate"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? EventDate { get; init; }
    [JsonPropertyName("sandboxId")] public string? SandboxId { get; init; }
    [JsonPropertyName("eventState")] public string? EventState { get; init; }
    [JsonPropertyName("recurrenceData")] public ClawbackRecurrenceData? RecurrenceData { get; init; }
}

/// <summary>Present when the order was for a subscription.</summary>
public sealed record ClawbackRecurrenceData
{
    [JsonPropertyName("recurrenceId")] public string? RecurrenceId { get; init; }
    [JsonPropertyName("durationIntervalStart"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? DurationIntervalStart { get; init; }
    [JsonPropertyName("durationInDays"), JsonConverter(typeof(StoreQuantityConverter))] public int? DurationInDays { get; init; }
    [JsonPropertyName("consumedDurationInDays"), JsonConverter(typeof(StoreQuantityConverter))] public int? ConsumedDurationInDays { get; init; }
    [JsonPropertyName("refundType")] public string? RefundType { get; init; }
}

/// <summary>One message of a Get Messages answer.</summary>
public sealed record QueueMessage(string MessageId, string PopReceipt, int DequeueCount, string MessageText);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(SasTokenResponse))]
[JsonSerializable(typeof(ClawbackEvent))]
internal sealed partial class ClawbackJsonContext : JsonSerializerContext;
