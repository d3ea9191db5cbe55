using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EntitlementGateway.Budget;
using EntitlementGateway.Emulator;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using MsalException = Microsoft.Identity.Client.MsalException;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Store;

/// <summary>One Store call's outcome: the Store's answer, or a failure.</summary>
public sealed record StoreCallResult<T>(T? Answer, StoreFailureKind? Failure, TimeSpan? RetryAfter, string Detail) where T : class
{
    public bool Succeeded => Answer is not null;
    public static StoreCallResult<T> Ok(T answer) => new(answer, null, null, "");
    public static StoreCallResult<T> Fail(StoreFailureKind kind, string detail, TimeSpan? retryAfter = null) => new(null, kind, retryAfter, detail);
}

/// <summary>
/// Typed client for the Store's operations. One call = one request (a query page, ...), made of one or more attempts
/// (retries) by the resilience handler, each paid for with a unit of the player's budget, with the service token or the
/// player's delegated Xbox authorization (<see cref="StoreCallState.Xbox"/>). Every operation goes through
/// <see cref="CallAsync{TAnswer}"/>: a new one is a path (<see cref="StoreOperations"/>), a body and a reader. The
/// handler has read the whole body by the time an answer gets here, so parsing it cannot hang.
/// </summary>
public sealed partial class CollectionsClient(HttpClient http, IStoreLocator endpoints, IOptions<StoreOptions> options, TimeProvider time, ILogger<CollectionsClient> logger,
    Hosting.ShutdownDelay? shutdown = null)
{
    public static readonly string QueryPath = StoreOperations.B2bLicensePreview.Path;

    /// <summary>One page of the v8 query.</summary>
    public Task<StoreCallResult<B2bLicensePreviewResponse>> QueryPageAsync(B2bLicensePreviewRequest request, string subject, StoreCallState state, CancellationToken cancellationToken) =>
        CallAsync(StoreOperations.B2bLicensePreview, StoreWire.JsonBody(request, StoreJsonContext.Default.B2bLicensePreviewRequest), ReadPage, subject, state, cancellationToken);

    /// <summary>One page of the v9 query (PublisherQuery).</summary>
    public Task<StoreCallResult<B2bLicensePreviewResponse>> QueryPageAsync(PublisherQueryRequest request, string subject, StoreCallState state, CancellationToken cancellationToken) =>
        CallAsync(StoreOperations.PublisherQuery, StoreWire.JsonBody(request, StoreJsonContext.Default.PublisherQueryRequest), ReadPage, subject, state, cancellationToken);

    private static B2bLicensePreviewResponse? ReadPage(byte[] body) => StoreJson.ReadPage(body);

    /// <summary>
    /// One call of <paramref name="operation"/> with <paramref name="body"/>; a 2xx JSON answer is given to
    /// <paramref name="read"/> (which may throw <see cref="JsonException"/>), anything else becomes a failure, except an
    /// error answer that <paramref name="readRefusal"/> (given the status and body) recognises as the operation's own
    /// final refusal, which is an answer. <paramref name="subject"/> is the short hash of whose call this is, for the log.
    /// </summary>
    public async Task<StoreCallResult<TAnswer>> CallAsync<TAnswer>(StoreOperation operation, HttpContent body, Func<byte[], TAnswer?> read,
        string subject, StoreCallState state, CancellationToken cancellationToken, Func<int, byte[], TAnswer?>? readRefusal = null) where TAnswer : class
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(state);
        var started = Stopwatch.GetTimestamp();
        // A call still waiting when the shutdown's time runs out ends as a failure the request can answer with.
        using var draining = shutdown is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, shutdown.DrainDeadline);
        var callerCancellation = cancellationToken;
        cancellationToken = draining?.Token ?? cancellationToken;
        try
        {
            var connection = await endpoints.GetAsync(cancellationToken);
            using var message = new HttpRequestMessage(HttpMethod.Post, Target(connection.CollectionsBaseUrl, operation))
            {
                Content = body,
                Version = options.Value.EffectiveHttpVersion,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            };
            // A GUID is a valid header value: added as text, not parsed again.
            message.Headers.TryAddWithoutValidation(StoreWire.CorrelationIdHeader, StoreWire.NewCorrelationId().ToString());
            message.Options.Set(StoreCallState.OptionKey, state);
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            LogStoreCall(logger, operation.Name, (int)response.StatusCode, subject, state.LastCorrelationVector,
                StoreWire.Header(response, StoreWire.CorrelationIdHeader), StoreWire.Header(response, StoreWire.RequestIdHeader),
                StoreWire.Header(response, StoreWire.CorrelationVectorHeader), Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            if (response.IsSuccessStatusCode) return await ReadAsync(response, read, cancellationToken);
            if (readRefusal is not null && readRefusal((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken)) is { } refusal)
                return StoreCallResult<TAnswer>.Ok(refusal);
            var failure = MapFailure(response, time.GetUtcNow());
            // With the player's own authorization, a refusal (401 or 403) is about that token, never the gateway's credentials.
            return state.Xbox is not null && response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? StoreCallResult<TAnswer>.Fail(StoreFailureKind.XboxTokenRefused, failure.Detail)
                : StoreCallResult<TAnswer>.Fail(failure.Failure!.Value, failure.Detail, failure.RetryAfter);
        }
        catch (StoreBudgetRefusedException ex)
        {
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.BudgetExhausted, "The player's budget refused the unit this Store call needs.", ex.Decision.RetryAfter);
        }
        catch (BudgetUnavailableException)
        {
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.BudgetUnavailable, "The shared budget store (Redis) is unavailable; retry shortly.");
        }
        catch (BrokenCircuitException ex)
        {
            LogStoreFailure(logger, operation.Name, "circuit open", subject, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Unavailable, "The Store is failing; calls to it are paused (circuit open).",
                ex.RetryAfter is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1));
        }
        catch (OperationCanceledException) when (shutdown is { DrainDeadline.IsCancellationRequested: true } && !callerCancellation.IsCancellationRequested)
        {
            LogStoreFailure(logger, operation.Name, "shutting down", subject, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Unavailable,
                "This gateway replica is shutting down and stopped waiting for the Store; retry (another replica will answer).", TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or StoreTokenTimeoutException ||
                                   (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogStoreFailure(logger, operation.Name, "timeout", subject, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Timeout, "The Store did not answer in time.");
        }
        catch (StoreUnreadableAnswerException ex)
        {
            LogStoreFailure(logger, operation.Name, "answer not read", subject, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error, ex.Message);
        }
        catch (StoreBodyException ex)
        {
            LogStoreFailure(logger, operation.Name, "answer broke off", subject, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            LogStoreFailure(logger, operation.Name, StoreWire.ErrorOf(ex).ToString(), subject, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return ConnectionFailure<TAnswer>(ex);
        }
        catch (MsalException ex)
        {
            // The message can name the app and tenant but never holds a secret; the code is enough to act on.
            LogStoreFailure(logger, operation.Name, "service token: " + ex.ErrorCode, subject, state.LastCorrelationVector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error, "The gateway could not obtain its service token.");
        }
    }

    /// <summary>What went wrong on the way to the Store, named: an answer that is not HTTP is not an unreachable Store.</summary>
    internal static StoreCallResult<TAnswer> ConnectionFailure<TAnswer>(HttpRequestException exception) where TAnswer : class
    {
        if (StoreWire.IsTlsRefusal(exception))
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Unavailable,
                "The TLS connection to the Store failed: its certificate is not trusted (Store:TrustedCertificateThumbprint, the system's trust store) or no TLS version is shared.");
        return StoreWire.ErrorOf(exception) switch
        {
            HttpRequestError.InvalidResponse => StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error, "The Store's answer was not valid HTTP."),
            HttpRequestError.ConfigurationLimitExceeded => StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error,
                "The Store's answer had more headers than the gateway reads (64 KiB)."),
            _ => StoreCallResult<TAnswer>.Fail(StoreFailureKind.Unavailable, "The Store could not be reached."),
        };
    }

    /// <summary>An operation's URL, combined once per base and operation rather than parsed again on every call.</summary>
    private static Uri Target(Uri baseUrl, StoreOperation operation) =>
        Targets.GetOrAdd((baseUrl.OriginalString, operation.Path), static key => new Uri(new Uri(key.BaseUrl), key.Path));

    private static readonly ConcurrentDictionary<(string BaseUrl, string Path), Uri> Targets = new();

    private static async Task<StoreCallResult<TAnswer>> ReadAsync<TAnswer>(HttpResponseMessage response, Func<byte[], TAnswer?> read, CancellationToken cancellationToken)
        where TAnswer : class
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!StoreWire.MayBeJson(mediaType))
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error, $"The Store answered {(int)response.StatusCode} with {mediaType}, not the documented JSON.");
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var answer = read(body);
            if (answer is not null) return StoreCallResult<TAnswer>.Ok(answer);
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error, body.Length == 0
                ? $"The Store answered {(int)response.StatusCode} with an empty body."
                : $"The Store answered {(int)response.StatusCode} with JSON null, not the documented object.");
        }
        catch (JsonException)
        {
            return StoreCallResult<TAnswer>.Fail(StoreFailureKind.Error, "The Store answered with a body that is not the documented JSON.");
        }
    }

    internal static StoreCallResult<object> MapFailure(HttpResponseMessage response, DateTimeOffset now)
    {
        var retryAfter = StoreRetryAfter.Parse(response, now);
        var status = (int)response.StatusCode;
        return response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => StoreCallResult<object>.Fail(StoreFailureKind.RateLimited, "The Store's per-user rate limit was reached.", retryAfter),
            HttpStatusCode.Unauthorized => StoreCallResult<object>.Fail(StoreFailureKind.UcidRefused, "The Store refused the request (401)."),
            // The Store documents its refusals of a UserCollectionsId (and of the service token) as 401s. A 403 refuses
            // the caller: the Entra app's access in Partner Center or its scope. Telling each player to mint a new UCID
            // for it would spend their client calls for nothing, so it is the gateway's error.
            HttpStatusCode.Forbidden => StoreCallResult<object>.Fail(StoreFailureKind.Error,
                "The Store answered 403 Forbidden: it refuses the gateway itself (check that the Entra app in Store:ClientId is associated with these products in Partner Center), not the player's UserCollectionsId."),
            HttpStatusCode.ServiceUnavailable => StoreCallResult<object>.Fail(StoreFailureKind.Unavailable, "The Store is unavailable.", retryAfter),
            HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout => StoreCallResult<object>.Fail(StoreFailureKind.Timeout,
                $"The Store timed out ({status})."),
            _ => StoreCallResult<object>.Fail(StoreFailureKind.Error, $"The Store answered {status}."),
        };
    }

    [LoggerMessage(EventId = EventIds.StoreCall, EventName = nameof(EventIds.StoreCall), Level = LogLevel.Information,
        Message = "Store {Operation} answered {StatusCode} for ucid {UcidHash}; sent MS-CV {SentMsCv}; MS-CorrelationId {MsCorrelationId} MS-RequestId {MsRequestId} MS-CV {MsCv} in {ElapsedMs:0.0} ms")]
    private static partial void LogStoreCall(ILogger logger, string operation, int statusCode, string ucidHash, string? sentMsCv, string? msCorrelationId, string? msRequestId, string? msCv, double elapsedMs);

    [LoggerMessage(EventId = EventIds.StoreCallFailed, EventName = nameof(EventIds.StoreCallFailed), Level = LogLevel.Warning, Message = "Store {Operation} failed ({Reason}) for ucid {UcidHash}; sent MS-CV {SentMsCv}; after {ElapsedMs:0.0} ms")]
    private static partial void LogStoreFailure(ILogger logger, string operation, string reason, string ucidHash, string? sentMsCv, double elapsedMs);
}
