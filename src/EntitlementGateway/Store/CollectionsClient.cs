using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EntitlementGateway.Budget;
using EntitlementGateway.Store.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;
using MsalException = Microsoft.Identity.Client.MsalException;
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
/// Typed client for the Store's Collections v8 query. One call = one page, made of one or more attempts (retries) by the
/// resilience handler, each paid for with a unit of the player's budget. The handler has read the whole body by the
/// time an answer gets here, so parsing it cannot hang.
/// </summary>
public sealed partial class CollectionsClient(HttpClient http, IStoreLocator endpoints, TimeProvider time, ILogger<CollectionsClient> logger)
{
    public const string QueryPath = "v8.0/collections/b2bLicensePreview";

    public async Task<StoreCallResult> QueryPageAsync(B2bLicensePreviewRequest request, string ucidFingerprint, StoreCallState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var connection = await endpoints.GetAsync(cancellationToken);
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(connection.CollectionsBaseUrl, QueryPath))
            {
                Content = StoreWire.JsonBody(request, StoreJsonContext.Default.B2bLicensePreviewRequest),
            };
            message.Headers.Add(StoreWire.CorrelationIdHeader, Guid.NewGuid().ToString());
            message.Options.Set(StoreCallState.OptionKey, state);
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            LogStoreCall(logger, (int)response.StatusCode, ucidFingerprint, state.LastCorrelationVector,
                StoreWire.Header(response, StoreWire.CorrelationIdHeader), StoreWire.Header(response, StoreWire.RequestIdHeader),
                StoreWire.Header(response, StoreWire.CorrelationVectorHeader), Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            return response.IsSuccessStatusCode ? await ReadPageAsync(response, cancellationToken) : MapFailure(response, time.GetUtcNow());
        }
        catch (StoreBudgetRefusedException ex)
        {
            return StoreCallResult.Fail(StoreFailureKind.BudgetExhausted, "The player's budget refused the unit this Store call needs.", ex.Decision.RetryAfter);
        }
        catch (BudgetUnavailableException)
        {
            return StoreCallResult.Fail(StoreFailureKind.BudgetUnavailable, "The shared budget store (Redis) is unavailable; retry shortly.");
        }
        catch (BrokenCircuitException ex)
        {
            LogStoreFailure(logger, "circuit open", ucidFingerprint, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Unavailable, "The Store is failing; calls to it are paused (circuit open).",
                ex.RetryAfter is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or StoreTokenTimeoutException ||
                                   (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogStoreFailure(logger, "timeout", ucidFingerprint, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Timeout, "The Store did not answer in time.");
        }
        catch (StoreBodyException ex)
        {
            LogStoreFailure(logger, "answer broke off", ucidFingerprint, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Error, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            LogStoreFailure(logger, ex.HttpRequestError.ToString(), ucidFingerprint, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Unavailable, "The Store could not be reached.");
        }
        catch (MsalException ex)
        {
            // The message can name the app and tenant but never holds a secret; the code is enough to act on.
            LogStoreFailure(logger, "service token: " + ex.ErrorCode, ucidFingerprint, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Error, "The gateway could not obtain its service token.");
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
        Message = "Store query answered {StatusCode} for ucid {UcidHash}; sent MS-CV {SentMsCv}; MS-CorrelationId {MsCorrelationId} MS-RequestId {MsRequestId} MS-CV {MsCv} in {ElapsedMs:0.0} ms")]
    private static partial void LogStoreCall(ILogger logger, int statusCode, string ucidHash, string? sentMsCv, string? msCorrelationId, string? msRequestId, string? msCv, double elapsedMs);

    [LoggerMessage(EventId = EventIds.StoreCallFailed, EventName = nameof(EventIds.StoreCallFailed), Level = LogLevel.Warning, Message = "Store query failed ({Reason}) for ucid {UcidHash}; sent MS-CV {SentMsCv}; after {ElapsedMs:0.0} ms")]
    private static partial void LogStoreFailure(ILogger logger, string reason, string ucidHash, string? sentMsCv, double elapsedMs);
}
