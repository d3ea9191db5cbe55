using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>
/// Remembers whose orders the gateway has seen (an item's <c>transactionId</c> is its OrderId; a consume answers its
/// orderIds), so a clawback event, which names an order and not a player, can be brought home. Off unless
/// Clawback:Enabled. Never fails the call that saw the orders: a write that fails is logged and the event of such an
/// order is then recorded as for an unknown player.
/// </summary>
public sealed partial class OrderBook(IClawbackStore store, IOptions<ClawbackOptions> options, ILogger<OrderBook> logger)
{
    public bool Enabled => options.Value.Enabled;

    public async Task RecordAsync(string playerKey, IEnumerable<string?> orderIds, CancellationToken cancellationToken)
    {
        if (!Enabled) return;
        var ids = orderIds.Where(id => !string.IsNullOrWhiteSpace(id) && id.Length <= 256).Select(id => Key(id!)).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0) return;
        try
        {
            await store.RecordOrdersAsync(playerKey, ids, options.Value.OrderRetention, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogOrdersNotRecorded(logger, ids.Count, ex.GetType().Name);
        }
    }

    /// <summary>
    /// The form an order id is remembered and looked up in: a GUID (an item's <c>transactionId</c> is one) in its one
    /// canonical form, lower case with hyphens, since an event may write the same order in upper case or without them;
    /// any other id as written.
    /// </summary>
    public static string Key(string orderId) => Guid.TryParse(orderId, out var guid) ? guid.ToString("D") : orderId;

    [LoggerMessage(EventId = EventIds.ClawbackOrdersNotRecorded, EventName = nameof(EventIds.ClawbackOrdersNotRecorded), Level = LogLevel.Warning,
        Message = "{Count} order ids were not recorded ({Reason}); a refund of them will name no player")]
    private static partial void LogOrdersNotRecorded(ILogger logger, int count, string reason);
}
