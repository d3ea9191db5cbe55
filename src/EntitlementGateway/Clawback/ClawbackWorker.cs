using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>
/// Reads the Store's clawback queue (Clawback:Enabled): Get Messages with a visibility timeout, each message handled by
/// <see cref="ClawbackProcessor"/>, then deleted with its pop receipt. A full batch is followed by another read at once;
/// an empty one by Clawback:PollIntervalSeconds. A message handled by another replica is left alone (it deletes it).
/// </summary>
public sealed partial class ClawbackWorker(
    ClawbackSasClient sas,
    AzureQueueClient queue,
    ClawbackProcessor processor,
    IOptions<ClawbackOptions> options,
    TimeProvider time,
    ILogger<ClawbackWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        var o = options.Value;
        LogStarted(logger, o.PollIntervalSeconds, o.BatchSize);
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                full = await ReadOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever failed (Store, queue, Redis), the messages stay in the queue and come back.
                LogReadFailed(logger, ex.GetType().Name, ex.Message);
            }
            if (!full)
            {
                try
                {
                    await Task.Delay(o.PollInterval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One Get Messages and the handling of what it returned; true when the batch was full.</summary>
    public async Task<bool> ReadOnceAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var access = await sas.GetAsync(cancellationToken);
        var (status, messages, detail) = await queue.GetMessagesAsync(access, o.BatchSize, o.VisibilityTimeout, cancellationToken);
        if (status == QueueCallStatus.AccessRefused) sas.Invalidate(access);
        if (status != QueueCallStatus.Ok)
        {
            LogQueueRefused(logger, access.Name, detail);
            return false;
        }
        foreach (var message in messages)
        {
            var outcome = await processor.HandleAsync(message, cancellationToken);
            if (outcome == MessageOutcome.HandledElsewhere) continue;
            var (deleted, why) = await queue.DeleteMessageAsync(access, message, cancellationToken);
            // NotFound: another reader holds the message now; it finds the event done and deletes it.
            if (deleted is not (QueueCallStatus.Ok or QueueCallStatus.NotFound)) LogDeleteFailed(logger, message.MessageId, access.Name, why);
        }
        return messages.Count == o.BatchSize;
    }

    [LoggerMessage(EventId = EventIds.ClawbackWorkerStarted, EventName = nameof(EventIds.ClawbackWorkerStarted), Level = LogLevel.Information,
        Message = "Clawback: reading the Store's refund and chargeback queue every {PollSeconds} s, {BatchSize} messages at a time")]
    private static partial void LogStarted(ILogger logger, double pollSeconds, int batchSize);

    [LoggerMessage(EventId = EventIds.ClawbackReadFailed, EventName = nameof(EventIds.ClawbackReadFailed), Level = LogLevel.Warning,
        Message = "Clawback: reading the queue failed ({Reason}: {Detail}); trying again")]
    private static partial void LogReadFailed(ILogger logger, string reason, string detail);

    [LoggerMessage(EventId = EventIds.ClawbackQueueRefused, EventName = nameof(EventIds.ClawbackQueueRefused), Level = LogLevel.Warning,
        Message = "Clawback: queue {Queue} answered {Detail}")]
    private static partial void LogQueueRefused(ILogger logger, string queue, string detail);

    [LoggerMessage(EventId = EventIds.ClawbackDeleteFailed, EventName = nameof(EventIds.ClawbackDeleteFailed), Level = LogLevel.Warning,
        Message = "Clawback: message {MessageId} of {Queue} was handled but not deleted ({Detail}); it will be read again and deleted as a duplicate")]
    private static partial void LogDeleteFailed(ILogger logger, string messageId, string queue, string detail);
}
