using System.Text.Json;
using EntitlementGateway.Store.Resilience;

namespace EntitlementGateway.Store;

/// <summary>One consume call's outcome: the Store's answer, a final refusal, or a failure (whose outcome may be unknown).</summary>
/// <param name="Answer">The Store consumed (or confirmed an earlier consume with this trackingId).</param>
/// <param name="Refusal">The Store refused for good.</param>
/// <param name="Failure">Anything else: the consume may or may not have happened, and is safe to send again.</param>
/// <param name="Detail">What the Store said, for the problem's detail.</param>
public sealed record ConsumeCallResult(ConsumeStoreResponse? Answer, ConsumeRefusal? Refusal, StoreCallResult? Failure, string Detail);

public sealed partial class CollectionsClient
{
    public const string ConsumePath = "v8.0/collections/consume";

    /// <summary>
    /// Consumes through the same handler as a query: every attempt takes a unit of the player's budget. The resilience
    /// pipeline may retry a transient failure (5xx, timeout, reset): safe here, because every attempt carries the same
    /// trackingId and the Store answers a resubmission with the same values as a confirmation without consuming again.
    /// </summary>
    public Task<ConsumeCallResult> ConsumeAsync(ConsumeStoreRequest request, string ucidFingerprint, StoreCallState state, CancellationToken cancellationToken) =>
        CallAsync(ConsumePath, StoreWire.JsonBody(request, StoreJsonContext.Default.ConsumeStoreRequest), "consume", ucidFingerprint, state,
            ReadConsumeAsync, failure => new ConsumeCallResult(null, null, failure, failure.Detail), cancellationToken);

    private async Task<ConsumeCallResult> ReadConsumeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var json = mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            if (!json) return Failed($"The Store answered {status} with {mediaType}, not the documented JSON.");
            var answer = Read(body, StoreJsonContext.Default.ConsumeStoreResponse);
            return answer?.NewQuantity is null
                ? Failed($"The Store answered {status} without the documented newQuantity.")
                : new ConsumeCallResult(answer, null, null, "");
        }
        var error = json ? Read(body, StoreJsonContext.Default.StoreErrorBody) : null;
        if (ConsumeRefusals.Classify(status, error) is { } refusal)
            return new ConsumeCallResult(null, refusal, null, error?.InnerError?.Message ?? error?.Message ?? $"The Store answered {status}.");
        var failure = MapFailure(response, time.GetUtcNow());
        return new ConsumeCallResult(null, null, failure, failure.Detail);
    }

    private static ConsumeCallResult Failed(string detail) =>
        new(null, null, StoreCallResult.Fail(StoreFailureKind.Error, detail), detail);

    private static T? Read<T>(byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        if (body.Length == 0) return null;
        try { return JsonSerializer.Deserialize(body, type); }
        catch (JsonException) { return null; }
    }
}
