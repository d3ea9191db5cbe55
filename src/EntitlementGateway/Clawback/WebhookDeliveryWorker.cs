using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>
/// Sends the outbox's due webhooks, on every replica: each delivery is leased (Redis), so one replica sends it; an
/// acknowledged one leaves the outbox, a failed one is due again after a doubling back-off (Clawback:WebhookRetry*),
/// until Clawback:WebhookGiveUpHours have passed since the event came: then it is Undeliverable, and stays listed in
/// the ops API. Delivery is at least once (a crash after the receiver's 2xx and before the record sends it again): the
/// receiver de-duplicates on the event id.
/// </summary>
public sealed partial class WebhookDeliveryWorker(
    IClawbackStore store,
    WebhookSender sender,
    WebhookSignal signal,
    ClawbackProcessor processor,
    IOptions<ClawbackOptions> options,
    TimeProvider time,
    ILogger<WebhookDeliveryWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SendDueAsync(stoppingToken);
                await signal.WaitAsync(Tick, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogOutboxFailed(logger, ex.GetType().Name);
                try
                {
                    await Task.Delay(Tick, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One pass over the due deliveries.</summary>
    public async Task SendDueAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        foreach (var eventId in await store.DueDeliveriesAsync(time.GetUtcNow(), 32, cancellationToken))
        {
            var lease = o.WebhookTimeout + TimeSpan.FromSeconds(10);
            if (await store.LeaseDeliveryAsync(eventId, processor.Owner, time.GetUtcNow(), lease, cancellationToken) is not { } record) continue;
            var (acknowledged, detail) = await sender.SendAsync(record, cancellationToken);
            var now = time.GetUtcNow();
            var attempts = record.DeliveryAttempts + 1;
            ClawbackEventRecord result;
            if (acknowledged)
            {
                result = record with { Delivery = WebhookDelivery.Delivered, DeliveryAttempts = attempts, DeliveredAt = now, NextAttemptAt = null, LastDeliveryError = null };
                LogDelivered(logger, eventId, attempts);
            }
            else if (now - record.ReceivedAt >= o.WebhookGiveUp)
            {
                result = record with { Delivery = WebhookDelivery.Undeliverable, DeliveryAttempts = attempts, NextAttemptAt = null, LastDeliveryError = detail };
                LogUndeliverable(logger, eventId, record.OrderId, attempts, detail);
            }
            else
            {
                var next = now + o.RetryDelay(attempts);
                result = record with { DeliveryAttempts = attempts, NextAttemptAt = next, LastDeliveryError = detail };
                LogRetry(logger, eventId, attempts, detail, (next - now).TotalSeconds);
            }
            await store.FinishDeliveryAsync(result, processor.Owner, CancellationToken.None);
        }
    }

    [LoggerMessage(EventId = EventIds.ClawbackWebhookDelivered, EventName = nameof(EventIds.ClawbackWebhookDelivered), Level = LogLevel.Information,
        Message = "Clawback webhook for event {ClawbackEventId} acknowledged after {Attempts} attempts")]
    private static partial void LogDelivered(ILogger logger, string clawbackEventId, int attempts);

    [LoggerMessage(EventId = EventIds.ClawbackWebhookFailed, EventName = nameof(EventIds.ClawbackWebhookFailed), Level = LogLevel.Warning,
        Message = "Clawback webhook for event {ClawbackEventId} failed (attempt {Attempts}: {Detail}); next attempt in {RetrySeconds:0.0} s")]
    private static partial void LogRetry(ILogger logger, string clawbackEventId, int attempts, string detail, double retrySeconds);

    [LoggerMessage(EventId = EventIds.ClawbackWebhookUndeliverable, EventName = nameof(EventIds.ClawbackWebhookUndeliverable), Level = LogLevel.Error,
        Message = "Clawback webhook for event {ClawbackEventId} (order {OrderId}) is undeliverable after {Attempts} attempts ({Detail}); see GET /ops/clawback/events")]
    private static partial void LogUndeliverable(ILogger logger, string clawbackEventId, string? orderId, int attempts, string detail);

    [LoggerMessage(EventId = EventIds.ClawbackOutboxFailed, EventName = nameof(EventIds.ClawbackOutboxFailed), Level = LogLevel.Warning,
        Message = "Clawback webhook outbox could not be read ({Reason}); trying again")]
    private static partial void LogOutboxFailed(ILogger logger, string reason);
}
