using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EntitlementGateway.Budget;
using EntitlementGateway.Store.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;
using MsalException = Microsoft.Identity.Client.MsalException;

namespace EntitlementGateway.Store;

/// <summary>What went wrong with one Store call, in the terms the gateway answers with.</summary>
public enum StoreFailureKind { RateLimited, Unauthorized, Unavailable, Timeout, Error, BudgetExhausted, BudgetUnavailable }

/// <summary>One Store call's outcome: a page, or a failure.</summary>
public sealed record StoreCallResult(B2bLicensePreviewResponse? Page, StoreFailureKind? Failure, TimeSpan? RetryAfter, string Detail)
{
    public bool Succeeded => Page is not null;
    public static StoreCallResult Ok(B2bLicensePreviewResponse page) => new(page, null, null, "");
    public static StoreCallResult Fail(StoreFailureKind kind, string detail, TimeSpan? retryAfter = null) => new(null, kind, retryAfter, detail);
}

/// <summary>
/// Typed client for the Store's Collections v8 query. One call = one page, made of one or more attempts (retries) by the
/// resilience handler, each paid for with a unit of <c>budget</c> when one is given.
/// </summary>
public sealed partial class CollectionsClient(HttpClient http, IStoreEndpoints endpoints, ILogger<CollectionsClient> logger)
{
    public const string QueryPath = "v8.0/collections/b2bLicensePreview";

    public async Task<StoreCallResult> QueryPageAsync(B2bLicensePreviewRequest request, string ucidFingerprint, StoreAttemptBudget? budget, CancellationToken cancellationToken)
    {
        var connection = await endpoints.GetAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(connection.CollectionsBaseUrl, QueryPath))
            {
                Content = StoreWire.JsonBody(request, StoreJsonContext.Default.B2bLicensePreviewRequest),
            };
            message.Headers.Add("MS-CorrelationId", Guid.NewGuid().ToString());
            if (budget is not null) message.Options.Set(StoreAttemptBudget.OptionKey, budget);
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            LogStoreCall(logger, (int)response.StatusCode, ucidFingerprint, Header(response, "MS-CorrelationId"),
                Header(response, "MS-RequestId"), Header(response, "MS-CV"), Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            if (response.IsSuccessStatusCode)
            {
                var page = await response.Content.ReadFromJsonAsync(StoreJsonContext.Default.B2bLicensePreviewResponse, cancellationToken);
                return page is null
                    ? StoreCallResult.Fail(StoreFailureKind.Error, "The Store answered 200 with an empty body.")
                    : StoreCallResult.Ok(page);
            }
            return MapFailure(response);
        }
        catch (StoreBudgetRefusedException ex)
        {
            return StoreCallResult.Fail(StoreFailureKind.BudgetExhausted, "The player's budget refused the unit this Store call needs.", ex.Decision.RetryAfter);
        }
        catch (BudgetUnavailableException)
        {
            return StoreCallResult.Fail(StoreFailureKind.BudgetUnavailable, "The shared budget store (Redis) is unavailable; retry shortly.", TimeSpan.FromSeconds(5));
        }
        catch (BrokenCircuitException ex)
        {
            LogStoreFailure(logger, "circuit open", ucidFingerprint, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Unavailable, "The Store is failing; calls to it are paused (circuit open).",
                ex.RetryAfter is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1));
        }
        catch (TimeoutRejectedException)
        {
            LogStoreFailure(logger, "timeout", ucidFingerprint, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Timeout, "The Store did not answer in time.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogStoreFailure(logger, "timeout", ucidFingerprint, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Timeout, "The Store did not answer in time.");
        }
        catch (HttpRequestException ex)
        {
            LogStoreFailure(logger, ex.HttpRequestError.ToString(), ucidFingerprint, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Unavailable, "The Store could not be reached.", TimeSpan.FromSeconds(5));
        }
        catch (JsonException)
        {
            return StoreCallResult.Fail(StoreFailureKind.Error, "The Store answered with a body that is not the documented JSON.");
        }
        catch (MsalException ex)
        {
            // The message can name the app and tenant but never holds a secret; the code is enough to act on.
            LogStoreFailure(logger, "service token: " + ex.ErrorCode, ucidFingerprint, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult.Fail(StoreFailureKind.Error, "The gateway could not obtain its service token.");
        }
    }

    private static StoreCallResult MapFailure(HttpResponseMessage response)
    {
        var retryAfter = RetryAfter(response);
        return response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => StoreCallResult.Fail(StoreFailureKind.RateLimited,
                "The Store's per-user rate limit was reached.", retryAfter ?? TimeSpan.FromSeconds(60)),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => StoreCallResult.Fail(StoreFailureKind.Unauthorized,
                $"The Store refused the request ({(int)response.StatusCode})."),
            HttpStatusCode.ServiceUnavailable => StoreCallResult.Fail(StoreFailureKind.Unavailable,
                "The Store is unavailable.", retryAfter ?? TimeSpan.FromSeconds(5)),
            HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout => StoreCallResult.Fail(StoreFailureKind.Timeout,
                $"The Store timed out ({(int)response.StatusCode})."),
            _ => StoreCallResult.Fail(StoreFailureKind.Error, $"The Store answered {(int)response.StatusCode}."),
        };
    }

    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "Store query answered {StatusCode} for ucid {UcidHash}; MS-CorrelationId {MsCorrelationId} MS-RequestId {MsRequestId} MS-CV {MsCv} in {ElapsedMs:0.0} ms")]
    private static partial void LogStoreCall(ILogger logger, int statusCode, string ucidHash, string? msCorrelationId, string? msRequestId, string? msCv, double elapsedMs);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Store query failed ({Reason}) for ucid {UcidHash} after {ElapsedMs:0.0} ms")]
    private static partial void LogStoreFailure(ILogger logger, string reason, string ucidHash, double elapsedMs);
}
