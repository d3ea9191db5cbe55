using System.Text.Json;
using EntitlementGateway.Emulator;
using EntitlementGateway.Store.Resilience;

namespace EntitlementGateway.Store;

/// <summary>What the Store answered a consume: consumed (or confirmed an earlier consume with this trackingId), or
/// refused for good (<paramref name="Refusal"/>, with the Store's own words in <paramref name="Detail"/>).</summary>
public sealed record ConsumeAnswer(ConsumeStoreResponse? Consumed, ConsumeRefusal? Refusal, string Detail);

public sealed partial class CollectionsClient
{
    /// <summary>
    /// Consumes through the same handler as a query: every attempt takes a unit of the player's budget. The resilience
    /// pipeline may retry a transient failure (5xx, timeout, reset): safe here, because every attempt carries the same
    /// trackingId and the Store answers a resubmission with the same values as a confirmation without consuming again.
    /// A failure means the outcome is unknown, never that nothing happened.
    /// </summary>
    public Task<StoreCallResult<ConsumeAnswer>> ConsumeAsync(ConsumeStoreRequest request, string subject, StoreCallState state, CancellationToken cancellationToken) =>
        CallAsync(StoreOperations.Consume, StoreWire.JsonBody(request, StoreJsonContext.Default.ConsumeStoreRequest), ReadConsumed,
            subject, state, cancellationToken, ReadRefusal);

    private static ConsumeAnswer? ReadConsumed(byte[] body)
    {
        var answer = JsonSerializer.Deserialize(body, StoreJsonContext.Default.ConsumeStoreResponse);
        if (answer is null) return null;
        return answer.NewQuantity is null ? throw new JsonException("The consume answer has no newQuantity.") : new ConsumeAnswer(answer, null, "");
    }

    private static ConsumeAnswer? ReadRefusal(int status, byte[] body)
    {
        StoreErrorBody? error;
        try { error = body.Length == 0 ? null : JsonSerializer.Deserialize(body, StoreJsonContext.Default.StoreErrorBody); }
        catch (JsonException) { return null; }
        return ConsumeRefusals.Classify(status, error) is { } refusal
            ? new ConsumeAnswer(null, refusal, error?.InnerError?.Message ?? error?.Message ?? $"The Store answered {status}.")
            : null;
    }
}
