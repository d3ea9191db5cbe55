using System.Text.Json;
using System.Text.Json.Serialization;

namespace EntitlementGateway.Clawback;

/// <summary>Where the studio's webhook stands for one event.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WebhookDelivery>))]
public enum WebhookDelivery
{
    /// <summary>Not acknowledged yet; the next attempt is at NextAttemptAt.</summary>
    Pending,
    /// <summary>The receiver answered 2xx.</summary>
    Delivered,
    /// <summary>No acknowledgement within Clawback:WebhookGiveUpHours: no more attempts.</summary>
    Undeliverable,
    /// <summary>Nothing to send (a malformed message).</summary>
    NotSent,
}

/// <summary>
/// One handled clawback event as the gateway recorded it: the Store's event, whose player it is (when the gateway had
/// seen the order), and its webhook's delivery. What <c>GET /ops/clawback/events</c> lists.
/// </summary>
public sealed record ClawbackEventRecord
{
    /// <summary>The Store's event id (the de-duplication key); <c>malformed:{messageId}</c> for a message that was not an event.</summary>
    public required string EventId { get; init; }
    /// <summary>/Purchase/Refund or /Purchase/Chargeback.</summary>
    public string? Source { get; init; }
    /// <summary>Returned, Revoked, Refunded or ChargebackReversal; Malformed for a message that was not an event.</summary>
    public required string EventState { get; init; }
    public string? Meaning { get; init; }
    /// <summary>none, reconcile, watch or undo.</summary>
    public string? Action { get; init; }
    /// <summary>The player's budget key; null when the gateway never saw the order (<see cref="PlayerKnown"/> false).</summary>
    public string? Player { get; init; }
    public bool PlayerKnown { get; init; }
    public string? OrderId { get; init; }
    public string? LineItemId { get; init; }
    public string? ProductId { get; init; }
    public string? ProductType { get; init; }
    public string? SkuId { get; init; }
    public string? SandboxId { get; init; }
    public DateTimeOffset? PurchasedDate { get; init; }
    public DateTimeOffset? EventDate { get; init; }
    /// <summary>When the Store created the event.</summary>
    public DateTimeOffset? Time { get; init; }
    /// <summary>As the Store wrote it.</summary>
    public JsonElement? RecurrenceData { get; init; }
    /// <summary>When this gateway handled it.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>Why a malformed message was not an event.</summary>
    public string? Malformed { get; init; }
    /// <summary>A malformed message's text as the queue held it (its first <see cref="MaxMessageText"/> characters).</summary>
    public string? MessageText { get; init; }
    public WebhookDelivery Delivery { get; init; }
    public int DeliveryAttempts { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public string? LastDeliveryError { get; init; }

    /// <summary>The queue's own limit on a message (64 KiB): nothing the Store can send is cut.</summary>
    public const int MaxMessageText = 65_536;

    public static string Bounded(string text) => text.Length <= MaxMessageText ? text : text[..MaxMessageText];
}

/// <summary>What <c>GET /ops/clawback/events</c> answers: newest first.</summary>
public sealed record ClawbackEventList(IReadOnlyList<ClawbackEventRecord> Events);

/// <summary>The body of the webhook a studio receives for one event.</summary>
public sealed record ClawbackWebhook(
    string EventId, string? Source, string EventState, string? Meaning, string? Action, string? Player, bool PlayerKnown,
    string? OrderId, string? LineItemId, string? ProductId, string? ProductType, string? SkuId, string? SandboxId,
    DateTimeOffset? PurchasedDate, DateTimeOffset? EventDate, DateTimeOffset? Time, JsonElement? RecurrenceData)
{
    public static ClawbackWebhook From(ClawbackEventRecord r) => new(r.EventId, r.Source, r.EventState, r.Meaning, r.Action, r.Player,
        r.PlayerKnown, r.OrderId, r.LineItemId, r.ProductId, r.ProductType, r.SkuId, r.SandboxId, r.PurchasedDate, r.EventDate, r.Time, r.RecurrenceData);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClawbackEventRecord))]
[JsonSerializable(typeof(ClawbackEventList))]
internal sealed partial class ClawbackRecordJsonContext : JsonSerializerContext;

/// <summary>The webhook's body keeps every field, null ones too (<c>"player": null</c>): one shape for a receiver's schema.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ClawbackWebhook))]
internal sealed partial class ClawbackWebhookJsonContext : JsonSerializerContext;
