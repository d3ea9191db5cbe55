using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EntitlementGateway.Store;

namespace EntitlementGateway.Clawback;

// Wire models of Clawback v2 with the documented field names: the sastoken answer, and the event a queue message
// carries (base64 JSON in MessageText). Read leniently: unknown fields ignored, optional ones may be missing or of
// another shape (read as null, or as the text of a number), so that an odd field never costs the studio a refund it
// must act on; only id, data.orderId and data.eventState must be there (an id or order id written as a number is read as
// its text, an eventState in any letter case as the documented name).

/// <summary>The answer of <c>POST /v8.0/b2b/clawback/sastoken</c>: the documents name its <c>uri</c>; <c>expiresOn</c> may be missing.</summary>
public sealed record SasTokenResponse
{
    [JsonPropertyName("expiresOn"), JsonConverter(typeof(LenientDateConverter))] public DateTimeOffset? ExpiresOn { get; init; }
    [JsonPropertyName("uri")] public string? Uri { get; init; }
}

/// <summary>A clawback event (the CloudEvents-shaped envelope around a <c>ClawbackEventContractV2</c>).</summary>
public sealed record ClawbackEvent
{
    [JsonPropertyName("id"), JsonConverter(typeof(LenientStringConverter))] public string? Id { get; init; }
    [JsonPropertyName("source"), JsonConverter(typeof(LenientStringConverter))] public string? Source { get; init; }
    [JsonPropertyName("type"), JsonConverter(typeof(LenientStringConverter))] public string? Type { get; init; }
    [JsonPropertyName("time"), JsonConverter(typeof(LenientDateConverter))] public DateTimeOffset? Time { get; init; }
    [JsonPropertyName("data")] public ClawbackEventData? Data { get; init; }
}

public sealed record ClawbackEventData
{
    [JsonPropertyName("orderId"), JsonConverter(typeof(LenientStringConverter))] public string? OrderId { get; init; }
    [JsonPropertyName("lineItemId"), JsonConverter(typeof(LenientStringConverter))] public string? LineItemId { get; init; }
    [JsonPropertyName("productId"), JsonConverter(typeof(LenientStringConverter))] public string? ProductId { get; init; }
    [JsonPropertyName("productType"), JsonConverter(typeof(LenientStringConverter))] public string? ProductType { get; init; }
    [JsonPropertyName("skuId"), JsonConverter(typeof(LenientStringConverter))] public string? SkuId { get; init; }
    [JsonPropertyName("purchasedDate"), JsonConverter(typeof(LenientDateConverter))] public DateTimeOffset? PurchasedDate { get; init; }
    [JsonPropertyName("eventDate"), JsonConverter(typeof(LenientDateConverter))] public DateTimeOffset? EventDate { get; init; }
    [JsonPropertyName("sandboxId"), JsonConverter(typeof(LenientStringConverter))] public string? SandboxId { get; init; }
    [JsonPropertyName("eventState"), JsonConverter(typeof(LenientStringConverter))] public string? EventState { get; init; }
    /// <summary>Present when the order was for a subscription; kept as the Store wrote it, whatever its shape.</summary>
    [JsonPropertyName("recurrenceData")] public JsonElement? RecurrenceData { get; init; }
}

/// <summary>An optional text field: a string as it is, a number or true/false as its JSON text, anything else null.</summary>
internal sealed class LenientStringConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False: return Encoding.UTF8.GetString(reader.ValueSpan);
            default:
                reader.Skip();
                return null;
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>An optional date: the Store's date text when it parses, null for anything else.</summary>
internal sealed class LenientDateConverter : JsonConverter<DateTimeOffset?>
{
    private static readonly StoreDateConverter StoreDate = new();

    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }
        try
        {
            return StoreDate.Read(ref reader, typeToConvert, options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // HandleNull brings nulls here too.
    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } date) writer.WriteStringValue(date);
        else writer.WriteNullValue();
    }
}

/// <summary>One message of a Get Messages answer.</summary>
public sealed record QueueMessage(string MessageId, string PopReceipt, int DequeueCount, string MessageText);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(SasTokenResponse))]
[JsonSerializable(typeof(ClawbackEvent))]
internal sealed partial class ClawbackJsonContext : JsonSerializerContext;
