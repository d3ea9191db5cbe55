using System.Diagnostics;
using System.Net;
using EntitlementGateway.Budget;
using EntitlementGateway.Infrastructure.Telemetry;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace EntitlementGateway.Store.Resilience;

/// <summary>
/// Every Store call the gateway makes goes through here, once per attempt and in this order: the service token (shared,
/// bounded) or the player's delegated Xbox authorization (<see cref="StoreCallState.Xbox"/>), one budget unit when the call has a <see cref="StoreCallState"/> with a key
/// (refused: the call ends, no Store call, no retry, and the circuit never sees it), the circuit breaker, the attempt
/// timeout, the Store, and the whole body read into memory inside that same timeout, so a Store that stalls or resets
/// after its headers is a timeout or a transient failure like any other. A Store 401 with a token that was not just
/// obtained is answered by one more attempt with a new token: only then is a 401 the caller's (the UCID's) fault.
/// </summary>
public sealed class StoreResilienceHandler(
    StoreResiliencePipelines pipelines,
    IUserBudget budget,
    IStoreTokenProvider tokens,
    GatewayMetrics metrics,
    StoreConnectionPool connections,
    StoreCredentialsMonitor credentials,
    UnprovenCallGate gate) : DelegatingHandler
{
    /// <summary>The largest Store answer read; a page of 100 items is a few tens of KiB.</summary>
    public const long MaxBodyBytes = 4 * 1024 * 1024;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(StoreCallState.OptionKey, out var state))
        {
            state = new StoreCallState(null, StoreWire.NewCorrelationVector());
            request.Options.Set(StoreCallState.OptionKey, state);
        }
        var response = await ExecuteAsync(request, state, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized && state.Token is { } used && credentials.RefusalEarnsANewToken(used))
        {
            response.Dispose();
            // The Store refused our token, not the player: that attempt's unit goes back.
            if (state.BudgetKey is { } key && state.LastAttemptLease is { } lease)
            {
                await RefundAsync(state, key, lease);
            }
            state.RefreshToken = true;
            response = await ExecuteAsync(request, state, cancellationToken);
        }
        return response;
    }

    /// <summary>The attempts of one call, with its state on the pipeline's context: an attempt that ends in an exception
    /// has no answer to name the MS-CV it sent, and the retry's log line reads it there.</summary>
    private async Task<HttpResponseMessage> ExecuteAsync(HttpRequestMessage request, StoreCallState state, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StoreCallState.ContextKey, state);
        try
        {
            return await pipelines.Outer.ExecuteAsync(Attempt, context, (this, request, state));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // Static callbacks with their state passed through: no closure and no extra async frame per call.
    private static readonly Func<ResilienceContext, (StoreResilienceHandler Handler, HttpRequestMessage Request, StoreCallState State), ValueTask<HttpResponseMessage>> Attempt =
        static (context, s) => new ValueTask<HttpResponseMessage>(s.Handler.AttemptAsync(s.Request, s.State, context.CancellationToken));

    private static readonly Func<(StoreResilienceHandler Handler, HttpRequestMessage Request), CancellationToken, ValueTask<HttpResponseMessage>> SendAndRead =
        static (s, token) => new ValueTask<HttpResponseMessage>(s.Handler.SendAndReadAsync(s.Request, token));

    /// <summary>A token this young is taken as good: a 401 with it is about the request, and it is not refreshed again,
    /// so forged UCIDs cannot make the gateway hammer the identity provider (Store:FreshTokenSeconds).</summary>
    public static bool IsFresh(StoreToken token, StoreOptions options, TimeProvider time) =>
        time.GetUtcNow() - token.AcquiredAt < TimeSpan.FromSeconds(options.FreshTokenSeconds);

    private async Task<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, StoreCallState state, CancellationToken cancellationToken)
    {
        if (state.Xbox is { } xbox)
        {
            // The player's own authorization: the service token never rides along, and a 401 is the player's (state.Token
            // stays null, so it never triggers a token refresh).
            SetHeader(request, "Authorization", xbox.Authorization);
            SetHeader(request, XboxAuthorization.SignatureHeader, xbox.Signature);
        }
        else
        {
            var token = state.RefreshToken && state.Token is { } rejected
                ? await tokens.RefreshServiceTokenAsync(rejected, cancellationToken)
                : await tokens.GetServiceTokenAsync(cancellationToken);
            state.RefreshToken = false;
            state.Token = token;
            SetHeader(request, "Authorization", token.AuthorizationValue);
        }
        SetHeader(request, StoreWire.CorrelationVectorHeader, state.NextCorrelationVector());

        var operation = OperationOf(request);
        // While the circuit is open and its break lasts, it refuses at once: no unit is taken for that.
        string? lease = null;
        state.LastAttemptLease = null;
        BudgetDecision? allowed = null;
        // An unproven credential's attempt holds a turn from before its unit is taken until its answer is read.
        using var turn = state.Unproven && state.BudgetKey is { } gated ? await gate.EnterAsync(gated, state.StopWaitingAt, cancellationToken) : null;
        if (state.BudgetKey is { } key && !pipelines.CircuitRefusesNow)
            (lease, allowed) = await AcquireAsync(state, key, cancellationToken);
        // The client span starts once the call will be made: a unit refused (or a budget that did not answer) is no
        // Store call, and is tagged on the request's span instead.
        using var activity = GatewayActivities.StartStoreCall(operation, state.Page, state.Attempt);
        GatewayActivities.Propagate(request, activity);
        if (allowed is { } decision && activity is not null)
        {
            activity.SetTag("budget.decision", BudgetDecisions.Allowed);
            activity.SetTag("budget.remaining", decision.Remaining);
        }
        var started = Stopwatch.GetTimestamp();
        var sendsBefore = (request.Content as StoreRequestBody)?.Sends;
        // Until the attempt shows otherwise (any failure not known to have stopped short of the Store), it may have acted.
        var mayHaveActed = true;
        try
        {
            var response = await pipelines.Inner.ExecuteAsync(SendAndRead, (this, request), cancellationToken);
            StoreConnectionPool.Answered(request);
            mayHaveActed = response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);
            GatewayActivities.StoreAnswered(activity, response, state.LastCorrelationVector);
            var outcome = StoreOutcomes.Of(response.StatusCode);
            // A 2xx that is no JSON object (a proxy's HTML page, JSON null) is not the Store answering: the caller
            // refuses it as 502, and the call counts as what it was.
            if (response.IsSuccessStatusCode && !await StoreWire.IsJsonObjectAnswerAsync(response, cancellationToken))
            {
                outcome = StoreOutcomes.InvalidAnswer;
                GatewayActivities.StoreFailed(activity, outcome);
            }
            metrics.StoreCall(operation, outcome, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return response;
        }
        catch (Exception ex) when (StoreOutcomes.Of(ex) is { } outcome)
        {
            // A connection that stalls fails every call on it (a reset stream is counted where it happens, in SendAndReadAsync).
            if (ex is TimeoutRejectedException) connections.FailedWithoutAnswer(request);
            GatewayActivities.StoreFailed(activity, outcome);
            metrics.StoreCall(operation, outcome, Stopwatch.GetElapsedTime(started).TotalSeconds);
            var notReached = NeverReachedStore(ex) || NeverSent(request, sendsBefore);
            mayHaveActed = !notReached;
            if (notReached && lease is not null) await RefundAsync(state, state.BudgetKey!, lease);
            throw;
        }
        finally
        {
            state.Attempted(mayHaveActed);
        }
    }

    /// <summary>
    /// The attempt's request provably never reached the Store, so its unit goes back: the circuit refused it (open, or
    /// half-open with its one trial already out), no connection could be made (refused, unresolvable), the TLS
    /// handshake failed (the request is only sent after it), or the Store refused its HTTP/2 stream (<c>REFUSED_STREAM</c>
    /// means unprocessed). Anything later may have reached the Store and keeps its unit.
    /// </summary>
    internal static bool NeverReachedStore(Exception exception) => exception switch
    {
        BrokenCircuitException => true,
        HttpRequestException http => StoreWire.IsTlsRefusal(http) || StoreWire.IsRefusedStream(http) ||
            http.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError,
        _ => false,
    };

    /// <summary>The attempt failed before its body began to go out (<see cref="StoreRequestBody"/>): whatever the failure,
    /// a timeout while the connection or its TLS handshake stalled among them, the Store never had the whole request.</summary>
    internal static bool NeverSent(HttpRequestMessage request, int? sendsBefore) =>
        request.Content is StoreRequestBody body && body.Sends == sendsBefore;

    /// <summary>Replaces a header for this attempt (a retry sends the request again). Set as text: a parsed value would be
    /// formatted into a new string on every send.</summary>
    private static void SetHeader(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        request.Headers.TryAddWithoutValidation(name, value);
    }

    /// <summary>The operation's name (its <c>store.operation</c> tag), from the one list of Store operations by path.</summary>
    internal static string OperationOf(HttpRequestMessage request)
    {
        var path = request.RequestUri?.AbsolutePath ?? "";
        foreach (var operation in Emulator.StoreOperations.All)
            if (path.EndsWith(operation.Path, StringComparison.Ordinal)) return operation.Name;
        return "other";
    }

    private async Task RefundAsync(StoreCallState state, string key, string lease)
    {
        await budget.RefundAsync(key, lease, CancellationToken.None);
        state.Forget(lease);
        metrics.BudgetUnitRefunded();
    }

    /// <summary>
    /// One attempt's send and read, inside the circuit. A stream the Store reset counts towards replacing the
    /// connection it went out on; when that connection had been replaced already, the failure is the old connection's,
    /// not the Store's: it is retried like any reset but kept out of the circuit. Otherwise a burst of calls all reset on
    /// one bad connection would open the circuit, and refuse the retries the new connection would have answered.
    /// </summary>
    private async Task<HttpResponseMessage> SendAndReadAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAndReadCoreAsync(request, cancellationToken);
        }
        catch (Exception ex) when (StoreWire.Http2ErrorOf(ex) is { } code)
        {
            if (code == StoreWire.ProtocolError) connections.Http2ProtocolError(request);
            if (connections.FailedWithoutAnswer(request)) throw;
            throw new StoreRetiredConnectionException(ex);
        }
    }

    private async Task<HttpResponseMessage> SendAndReadCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        // The values are the Store's bytes: named, not echoed.
        if (StoreWire.ContentLengthFaultOf(response) is { } fault)
        {
            response.Dispose();
            throw new StoreUnreadableAnswerException($"The Store's {(int)response.StatusCode} answer has " +
                (fault == ContentLengthFault.Conflicting ? "Content-Length headers that disagree" : "a Content-Length that is not a number of bytes") +
                ": where it ends is ambiguous, so it was not read.");
        }
        // Read before buffering, when it is still the header's value (after it, the buffer's length stands in for none).
        var declared = response.Content.Headers.ContentLength;
        try
        {
            await response.Content.LoadIntoBufferAsync(MaxBodyBytes, cancellationToken);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
        {
            response.Dispose();
            throw TooLarge(response); // a declared length over the limit, or a chunked body that went past it
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            response.Dispose();
            throw; // the attempt timeout's: a stalled body is a timeout
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            response.Dispose();
            throw new StoreBodyException($"The Store's {(int)response.StatusCode} answer broke off after its headers.", ex);
        }
        // HTTP/1.1 framing is the length itself, but over HTTP/2 the client takes the DATA frames up to the stream's end
        // whatever the header said: a body that ends short may still be valid JSON, with items missing.
        if (declared is { } length)
        {
            var read = (await response.Content.ReadAsStreamAsync(cancellationToken)).Length;
            if (read != length)
            {
                var status = (int)response.StatusCode;
                response.Dispose();
                if (read < length)
                    throw new StoreBodyException($"The Store's {status} answer ended after {read} of the {length} bytes its Content-Length announced.");
                throw new StoreUnreadableAnswerException(
                    $"The Store's {status} answer carried {read} bytes where its Content-Length announced {length}: where it ends is ambiguous, so it was not read.");
            }
        }
        try
        {
            // The length above is of the bytes as sent, so the coding comes off after it is checked.
            return await StoreWire.WithoutByteOrderMarkAsync(await StoreContentCoding.DecodedAsync(response, MaxBodyBytes, cancellationToken), cancellationToken);
        }
        catch (StoreUnreadableAnswerException)
        {
            response.Dispose();
            throw;
        }
    }

    private static StoreUnreadableAnswerException TooLarge(HttpResponseMessage response) =>
        new($"The Store's {(int)response.StatusCode} answer is larger than the {MaxBodyBytes / (1024 * 1024)} MiB the gateway reads: it was not read.");

    private async Task<(string Lease, BudgetDecision Decision)> AcquireAsync(StoreCallState state, string key, CancellationToken cancellationToken)
    {
        BudgetDecision decision;
        try
        {
            decision = await budget.TryAcquireAsync(key, cancellationToken);
        }
        catch (BudgetUnavailableException)
        {
            metrics.BudgetDecision(BudgetDecisions.Unavailable);
            Activity.Current?.SetTag("budget.decision", BudgetDecisions.Unavailable);
            throw;
        }
        state.Record(decision);
        if (!decision.Allowed)
        {
            metrics.BudgetDecision(BudgetDecisions.Denied);
            Activity.Current?.SetTag("budget.decision", BudgetDecisions.Denied);
            Activity.Current?.SetTag("budget.remaining", decision.Remaining);
            throw new StoreBudgetRefusedException(decision);
        }
        metrics.BudgetDecision(BudgetDecisions.Allowed);
        metrics.BudgetUnitSpent();
        return (state.LastAttemptLease = decision.Lease!, decision);
    }
}
