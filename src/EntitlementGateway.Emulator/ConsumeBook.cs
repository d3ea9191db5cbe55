using System.Text.Json.Nodes;

namespace EntitlementGateway.Emulator;

/// <summary>What a consume call answered: the success body, or a status with the consume service's error code.</summary>
internal sealed record ConsumeAnswer(JsonObject? Body, int Status, string? ErrorCode, string? Message);

/// <summary>
/// The Store-managed consumable balances behind <c>v8.0/collections/consume</c>. A balance is the sum of the quantities
/// of the user's Active items of the product (as seeded); a consume takes from the oldest items first and writes the
/// new quantities back, so queries see them. Each trackingId of a user is remembered: a resubmission with the same
/// product and quantity consumes nothing and answers success with the current balance and the same orders, as the
/// documentation says the Store does.
/// </summary>
internal sealed class ConsumeBook
{
    private sealed record Done(string ProductId, int Quantity, string ItemId, JsonArray Orders);

    private readonly object _lock = new();
    private Dictionary<(string User, string TrackingId), Done> _done = new();
    private readonly HashSet<(string User, string TrackingId)> _applying = [];

    public void Clear()
    {
        lock (_lock) _done = new();
    }

    /// <summary>Marks a consume as being applied; false when one with the same user and trackingId already is.</summary>
    public bool TryBeginApplying(string userId, string trackingId)
    {
        lock (_lock) return _applying.Add((userId, trackingId));
    }

    public void EndApplying(string userId, string trackingId)
    {
        lock (_lock) _applying.Remove((userId, trackingId));
    }

    public ConsumeAnswer Consume(EmulatorState state, string userId, string productId, int quantity, string trackingId)
    {
        lock (_lock)
        {
            var items = state.GetEntitlements(userId);
            var mine = items.Where(i => Text(i, "productId") == productId).ToList();
            if (_done.TryGetValue((userId, trackingId), out var done))
            {
                if (done.ProductId != productId || done.Quantity != quantity)
                    return new ConsumeAnswer(null, 409, "TrackingIdConflict", "trackingId was already used for another consume request.");
                return Success(done, Balance(mine), trackingId);
            }
            if (mine.Any(i => (Text(i, "productKind") ?? Text(i, "productType")) is { } kind && kind != "Consumable"))
                return new ConsumeAnswer(null, 400, "ProductNotConsumable", $"Product {productId} is not a Store-managed consumable.");
            var balance = Balance(mine);
            if (balance < quantity)
                return new ConsumeAnswer(null, 400, "InsufficientQuantity", $"The user's balance of {productId} is {balance}, less than removeQuantity {quantity}.");

            var orders = new JsonArray();
            string? itemId = null;
            var left = quantity;
            foreach (var item in items.Where(i => Text(i, "productId") == productId && Active(i)))
            {
                var have = Quantity(item);
                if (left == 0 || have == 0) continue;
                var take = Math.Min(have, left);
                item["quantity"] = have - take;
                left -= take;
                itemId ??= Text(item, "id");
                orders.Add(new JsonObject
                {
                    ["orderId"] = Text(item, "transactionId") ?? Text(item, "id"),
                    ["orderLineItemId"] = Text(item, "orderLineItemId") ?? Text(item, "id"),
                    ["quantityConsumed"] = take,
                });
            }
            state.SeedEntitlements(userId, items);
            done = new Done(productId, quantity, itemId ?? "", orders);
            _done[(userId, trackingId)] = done;
            return Success(done, balance - quantity, trackingId);
        }
    }

    private static ConsumeAnswer Success(Done done, int balance, string trackingId) => new(new JsonObject
    {
        ["itemId"] = done.ItemId,
        ["newQuantity"] = balance,
        ["productId"] = done.ProductId,
        ["trackingId"] = trackingId,
        ["orderTransactions"] = done.Orders.DeepClone(),
    }, 200, null, null);

    private static int Balance(IEnumerable<JsonObject> items) => items.Where(Active).Sum(Quantity);

    private static bool Active(JsonObject item) => Text(item, "status") is null or "Active";

    private static int Quantity(JsonObject item) =>
        item["quantity"] is JsonValue v && v.TryGetValue<int>(out var q) ? Math.Max(0, q) : 0;

    private static string? Text(JsonObject item, string name) =>
        item[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
