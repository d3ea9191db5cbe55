using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EntitlementGateway.Store.Resilience;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Store;

/// <summary>One Store call's outcome: a page, or a failure.</summary>
public sealed record StoreCallResult(B2bLicensePreviewResponse? Page, StoreFailureKind? Failure, TimeSpan? RetryAfter, string Detail)
{
    public bool Succeeded => Page is not null;
    public static StoreCallResult Ok(B2bLicensePreviewResponse page) => new(page, null, null, "");
    public static StoreCallResult Fail(StoreFailureKind kind, string detail, TimeSpan? retryAfter = null) => new(null, kind, retryAfter, detail);
}

/// <summary>
/// Typed client for the Store's Collections v8 calls (the query here, consume in CollectionsClient.Consume.cs). One query call = one page, made of one or more attempts (retries) by the
/// resilience handler, each paid for with a unit of the player's budget. The handler has read the whole body by the
/// time an answer gets here, so parsing it cannot hang.
/// </summary>
public sealed partial class CollectionsClient(HttpClient http, IStoreLocator endpoints, TimeProvider time, ILogger<CollectionsClient> logger)
{
    public const string QueryPath = "v8.0/collections/b2bLicensePreview";

    public Task<StoreCallResult> QueryPageAsync(B2bLicensePreviewRequest request, string ucidFingerprint, StoreCallState state, CancellationToken cancellationToken) =>
        CallAsync(QueryPath, StoreWire.JsonBody(request, StoreJsonContext.Default.B2bLicensePreviewRequest), "query", ucidFingerprint, state,
            (response, ct) => response.IsSuccessStatusCode ? ReadPageAsync(response, ct) : Task.FromResult(MapFailure(response, time.GetUtcNow())),
            failure => failure, cancellationToken);

    /// <summary>
    /// One Store call of any operation, through the resilience handler (token, budget unit, circuit, timeouts, retries):
    /// <paramref name="read"/> turns the answer into the operation's result, <paramref name="fail"/> a failure without one.
    /// </summary>
    private async Task<T> CallAsync<T>(string path, HttpContent body, string operation, string ucidFingerprint, StoreCallState state,
        Func<HttpResponseMessage, CancellationToken, Task<T>> read, Func<StoreCallResult, T> fail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var connection = await endpoints.GetAsync(cancellationToken);
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(connection.CollectionsBaseUrl, path)) { Content = body };
            message.Headers.Add(StoreWire.CorrelationIdHeader, Guid.NewGuid().ToString());
            message.Options.Set(StoreCallState.OptionKey, state);
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            LogStoreCall(logger, operation, (int)response.StatusCode, ucidFingerprint, state.LastCorrelationVector,
                StoreWire.Header(response, StoreWire.CorrelationIdHeader), StoreWire.Header(response, StoreWire.RequestIdHeader),
                StoreWire.Header(response, StoreWire.CorrelationVectorHeader), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return await read(response, cancellationToken);
        }
        catch (Exception ex) when (StoreCallFailures.Classify(ex, cancellationToken) is { } failure)
        {
            if (failure.LogReason is { } reason)
                LogStoreFailure(logger, operation, reason, ucidFingerprint, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return fail(failure.Result);
        }
    }

    private static async Task<StoreCallResult> ReadPageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not null && !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
            return StoreCallResult.Fail(StoreFailureKind.Error, $"The Store answered {(int)response.StatusCode} with {mediaType}, not the documented JSON.");
        try
        {
            var page = StoreJson.ReadPage(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            return page is null
                ? StoreCallResult.Fail(StoreFailureKind.Error, $"The Store answered {(int)response.StatusCode} with an empty body.")
                : StoreCallResult.Ok(page);
        }
        catch (JsonException)
        {
            return StoreCallResult.Fail(StoreFailureKind.Error, "The Store answered with a body that is not the documented JSON.");
        }
    }

    internal static StoreCallResult MapFailure(HttpResponseMessage response, DateTimeOffset now)
    {
        var retryAfter = StoreRetryAfter.Parse(response, now);
        var status = (int)response.StatusCode;
        return response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => StoreCallResult.Fail(StoreFailureKind.RateLimited, "The Store's per-user rate limit was reached.", retryAfter),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => StoreCallResult.Fail(StoreFailureKind.UcidRefused,
                $"The Store refused the request ({status})."),
            HttpStatusCode.ServiceUnavailable => StoreCallResult.Fail(StoreFailureKind.Unavailable, "The Store is unavailable.", retryAfter),
            HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout => StoreCallResult.Fail(StoreFailureKind.Timeout,
                $"The Store timed out ({status})."),
            _ => StoreCallResult.Fail(StoreFailureKind.Error, $"The Store answered {status}."),
        };
    }

    [LoggerMessage(EventId = EventIds.StoreCall, EventName = nameof(EventIds.StoreCall), Level = LogLevel.Information,
        Message = "Store {Operation} answered {StatusCode} for ucid {UcidHash}; sent MS-CV {SentMsCv}; MS-CorrelationId {MsCorrelationId} MS-RequestId {MsRequestId} MS-CV {MsCv} in {ElapsedMs:0.0} ms")]
    private static partial void LogStoreCall(ILogger logger, string operation, int statusCode, string ucidHash, string? sentMsCv, string? msCorrelationId, string? msRequestId, string? msCv, double elapsedMs);

    [LoggerMessage(EventId = EventIds.StoreCallFailed, EventName = nameof(EventIds.StoreCallFailed), Level = LogLevel.Warning, Message = "Store {Operation} failed ({Reason}) for ucid {UcidHash}; sent MS-CV {SentMsCv}; after {ElapsedMs:0.0} ms")]
    private static partial void LogStoreFailure(ILogger logger, string operation, string reason, string ucidHash, string? sentMsCv, double elapsedMs);
}
