using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>What became of one queue message.</summary>
public enum MessageOutcome { Handled, Duplicate, Malformed, HandledElsewhere }

/// <summary>
/// Handles one queue message, exactly once across replicas: claim the event id (Redis), find the order's player, drop
/// that player's cached answers, record the event and put its webhook in the durable outbox (one atomic step that also
/// marks the event done), and only then delete the message. A crash before the commit leaves the message in the
/// queue: it comes back after its visibility timeout and the claim has lapsed by then. A crash after it leaves a
/// message whose event is done: the next reader only deletes it.
/// </summary>
public sealed partial class ClawbackProcessor(
    IClawbackStore store,
    ResultCache cache,
    WebhookSignal signal,
    IOptions<ClawbackOptions> options,
    TimeProvider time,
    ILogger<ClawbackProcessor> logger)
{
    /// <summary>This replica's name in claims and leases.</summary>
    public string Owner { get; } = Environment.MachineName + "/" + Guid.NewGuid().ToString("N")[..8];

    public async Task<MessageOutcome> HandleAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        var (clawback, malformed) = ClawbackMessages.ReadEvent(message.MessageText);
        var now = time.GetUtcNow();
        if (clawback is null)
        {
            // Kept for operators with its text (it cannot be acted on, and would come back every visibility timeout if left
            // in the queue): what the Store sent is not lost with the message.
            LogMalformed(logger, message.MessageId, malformed!);
            await store.CommitEventAsync(new ClawbackEventRecord
            {
                EventId = "malformed:" + message.MessageId, EventState = "Malformed", Malformed = malformed, ReceivedAt = now,
                Delivery = WebhookDelivery.NotSent, MessageText = ClawbackEventRecord.Bounded(message.MessageText),
            }, Owner, options.Value.EventRetention, cancellationToken);
            return MessageOutcome.Malformed;
        }

        var eventId = clawback.Id!;
        switch (await store.ClaimEventAsync(eventId, Owner, options.Value.VisibilityTimeout, cancellationToken))
        {
            case EventClaim.Done: return MessageOutcome.Duplicate;
            case EventClaim.Busy: return MessageOutcome.HandledElsewhere;
        }
        try
        {
            var data = clawback.Data!;
            var player = await store.FindOrderOwnerAsync(OrderBook.Key(data.OrderId!), cancellationToken);
            if (player is not null) await cache.DropPlayerAsync(player, cancellationToken);
            var meaning = ClawbackMessages.States[data.EventState!];
            var record = new ClawbackEventRecord
            {
                EventId = eventId, Source = clawback.Source, EventState = data.EventState!, Meaning = meaning.Meaning, Action = meaning.Action,
                Player = player, PlayerKnown = player is not null, OrderId = data.OrderId, LineItemId = data.LineItemId,
                ProductId = data.ProductId, ProductType = data.ProductType, SkuId = data.SkuId, SandboxId = data.SandboxId,
                PurchasedDate = data.PurchasedDate, EventDate = data.EventDate, Time = clawback.Time, RecurrenceData = data.RecurrenceData,
                ReceivedAt = now, Delivery = WebhookDelivery.Pending, NextAttemptAt = now,
            };
            if (!await store.CommitEventAsync(record, Owner, options.Value.EventRetention, cancellationToken)) return MessageOutcome.Duplicate;
            LogHandled(logger, eventId, data.OrderId, data.EventState!, clawback.Source, player is not null);
            signal.Raise();
            return MessageOutcome.Handled;
        }
        catch
        {
            await store.ReleaseEventAsync(eventId, Owner, CancellationToken.None);
            throw;
        }
    }

    [LoggerMessage(EventId = EventIds.ClawbackEventHandled, EventName = nameof(EventIds.ClawbackEventHandled), Level = LogLevel.Information,
        Message = "Clawback event {ClawbackEventId} of order {OrderId} ({EventState}, {Source}) recorded; player known: {PlayerKnown}; webhook queued")]
    private static partial void LogHandled(ILogger logger, string clawbackEventId, string? orderId, string eventState, string? source, bool playerKnown);

    [LoggerMessage(EventId = EventIds.ClawbackMessageMalformed, EventName = nameof(EventIds.ClawbackMessageMalformed), Level = LogLevel.Warning,
        Message = "Clawback queue message {MessageId} is not an event the gateway can act on: {Reason}; recorded and deleted")]
    private static partial void LogMalformed(ILogger logger, string messageId, string reason);
}

/// <summary>Wakes this replica's webhook sender at once when an event is recorded (it also looks every second).</summary>
public sealed class WebhookSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Raise()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already raised: one wake-up covers every event recorded before it.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
