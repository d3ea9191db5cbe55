using System.Text;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace EntitlementGateway.Clawback;

/// <summary>What the eventState of a clawback event means for the studio, and what it is expected to do.</summary>
public sealed record EventStateMeaning(string Meaning, string Action);

/// <summary>
/// Reads what the clawback queue holds without trusting it: the Get Messages XML, and each message's base64 JSON event.
/// An event the gateway cannot act on (no id, order or known eventState) is malformed, with the reason.
/// </summary>
public static class ClawbackMessages
{
    /// <summary>The documented event states and what each asks of the studio.</summary>
    public static readonly IReadOnlyDictionary<string, EventStateMeaning> States = new Dictionary<string, EventStateMeaning>(StringComparer.Ordinal)
    {
        ["Returned"] = new("Refunded, and the Store removed the entitlement (or the unconsumed quantity); nothing to reconcile.", "none"),
        ["Revoked"] = new("Refunded, but the item was already fulfilled or consumed, so the Store could not take it back; reconcile: remove what it granted.", "reconcile"),
        ["Refunded"] = new("Refunded, and the player keeps the item; record it and watch the account for abuse.", "watch"),
        ["ChargebackReversal"] = new("A chargeback was reversed: the payment and the item are restored; undo what was done for the earlier event of this order.", "undo"),
    };

    /// <summary>
    /// Each documented state's name, found whatever the letter case an event writes it in (the documents give none):
    /// records and webhooks carry the one spelling.
    /// </summary>
    private static readonly Dictionary<string, string> DocumentedNames = States.Keys.ToDictionary(name => name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The messages of a Get Messages answer. Throws <see cref="FormatException"/> when it is not that XML.</summary>
    public static IReadOnlyList<QueueMessage> ReadList(string xml)
    {
        XDocument document;
        try
        {
            // XmlReader's defaults refuse DTDs and resolve nothing (XDocument.Parse would read a DTD): an answer cannot
            // expand entities or make the gateway fetch anything.
            using var reader = XmlReader.Create(new StringReader(xml));
            document = XDocument.Load(reader);
        }
        catch (XmlException ex)
        {
            throw new FormatException("The queue's answer is not XML.", ex);
        }
        if (document.Root?.Name.LocalName != "QueueMessagesList") throw new FormatException("The queue's answer is not a QueueMessagesList.");
        var messages = new List<QueueMessage>();
        foreach (var m in document.Root.Elements("QueueMessage"))
        {
            var id = (string?)m.Element("MessageId");
            var receipt = (string?)m.Element("PopReceipt");
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(receipt)) throw new FormatException("A queue message has no MessageId or PopReceipt.");
            _ = int.TryParse((string?)m.Element("DequeueCount"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var dequeued);
            messages.Add(new QueueMessage(id, receipt, dequeued, (string?)m.Element("MessageText") ?? ""));
        }
        return messages;
    }

    /// <summary>The event in a message's text (base64, standard or URL-safe, of UTF-8 JSON), or why it is malformed.</summary>
    public static (ClawbackEvent? Event, string? Malformed) ReadEvent(string messageText)
    {
        if (Decode(messageText) is not { } json) return (null, "MessageText is not base64.");
        // A byte order mark before the JSON is text the Store's encoder may add; it is not part of the event.
        if (json.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        ClawbackEvent? clawback;
        try
        {
            clawback = JsonSerializer.Deserialize(json, ClawbackJsonContext.Default.ClawbackEvent);
        }
        catch (JsonException)
        {
            return (null, "MessageText is not a JSON clawback event.");
        }
        if (string.IsNullOrWhiteSpace(clawback?.Id)) return (null, "The event has no id.");
        if (string.IsNullOrWhiteSpace(clawback.Data?.OrderId)) return (null, "The event has no data.orderId.");
        if (clawback.Data.EventState is not { } state || !DocumentedNames.TryGetValue(state, out var documented))
            return (null, "The event's data.eventState is not one of " + string.Join(", ", States.Keys) + ".");
        return (clawback with { Data = clawback.Data with { EventState = documented } }, null);
    }

    private static byte[]? Decode(string text)
    {
        var s = text.Trim().Replace('-', '+').Replace('_', '/');
        if (s.Length == 0) return null;
        s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
        var buffer = new byte[s.Length];
        return Convert.TryFromBase64String(s, buffer, out var written) ? buffer[..written] : null;
    }

    /// <summary>UTF-8 text of a JSON event, base64-encoded as the queue holds it (for tests and tools).</summary>
    public static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
}
