using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EntitlementGateway.Infrastructure.Telemetry;
using Microsoft.Extensions.Options;
using MsalException = Microsoft.Identity.Client.MsalException;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Store;

/// <summary>A renewed UCID, or why not.</summary>
public sealed record RenewResult(UserCollectionsId? Renewed, StoreFailureKind? Failure, TimeSpan? RetryAfter, string Detail)
{
    public static RenewResult Fail(StoreFailureKind kind, string detail, TimeSpan? retryAfter = null) => new(null, kind, retryAfter, detail);
}

/// <summary>
/// Renews UCIDs at the one fixed URL, <c>{CollectionsBaseUrl}/v6.0/b2b/keys/renew</c>. Never the <c>refreshUri</c>
/// claim of a client's UCID: that URL is client-controlled, and the renew body carries the service token. The whole
/// renewal, token included, ends within <c>Store:TimeoutSeconds</c>; a refusal with a service token that was not just
/// obtained is tried once more with a new one, as for queries.
/// </summary>
public sealed partial class UserCollectionsKeysClient(
    HttpClient http,
    IStoreLocator endpoints,
    IStoreTokenProvider tokens,
    StoreCredentialsMonitor credentials,
    IOptions<StoreOptions> options,
    TimeProvider time,
    UcidValidator validator,
    GatewayMetrics metrics,
    StoreHealth health,
    ILogger<UserCollectionsKeysClient> logger)
{
    public const string RenewPath = "v6.0/b2b/keys/renew";

    /// <summary>A renew answer is one key of a few KB: anything far larger is not one.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public async Task<RenewResult> RenewAsync(UserCollectionsId ucid, string budgetKey, CancellationToken cancellationToken)
    {
        var result = await TryRenewAsync(ucid, budgetKey, cancellationToken);
        if (result.Failure is { } failure) health.RecordFailure(failure, result.Detail);
        return result;
    }

    private async Task<RenewResult> TryRenewAsync(UserCollectionsId ucid, string budgetKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ucid);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        var correlationVector = StoreWire.NewCorrelationVector();
        try
        {
            var token = await tokens.GetServiceTokenAsync(deadline.Token);
            var (status, result) = await SendAsync(ucid, token, correlationVector + ".1", deadline.Token);
            if (status == HttpStatusCode.Unauthorized && credentials.RefusalEarnsANewToken(token))
            {
                token = await tokens.RefreshServiceTokenAsync(token, deadline.Token);
                (_, result) = await SendAsync(ucid, token, correlationVector + ".2", deadline.Token);
            }
            if (result.Failure == StoreFailureKind.UcidRefused && credentials.RecordRefusal(budgetKey, ucid))
                return RenewResult.Fail(StoreFailureKind.CredentialsSuspect, "The Store is refusing many players at once; the gateway's own Store credentials are being checked. Retry later.");
            if (result.Renewed is not null) credentials.RecordAccepted();
            return result;
        }
        catch (Exception ex) when (ex is StoreTokenTimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return RenewResult.Fail(StoreFailureKind.Timeout, "The Store did not answer in time.");
        }
        catch (HttpRequestException ex)
        {
            // Named as for every other Store call: an answer that is not HTTP is not an unreachable Store.
            var failure = CollectionsClient.ConnectionFailure<RenewResult>(ex);
            return RenewResult.Fail(failure.Failure!.Value, failure.Detail);
        }
        catch (MsalException ex)
        {
            LogTokenFailure(logger, ex.ErrorCode);
            return RenewResult.Fail(StoreFailureKind.Error, "The gateway could not obtain its service token.");
        }
    }

    private async Task<(HttpStatusCode Status, RenewResult Result)> SendAsync(UserCollectionsId ucid, StoreToken token, string correlationVector, CancellationToken cancellationToken)
    {
        var connection = await endpoints.GetAsync(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(connection.CollectionsBaseUrl, RenewPath))
        {
            Content = StoreWire.JsonBody(new RenewKeyRequest(token.Value, ucid.Value), StoreJsonContext.Default.RenewKeyRequest),
        };
        request.Headers.TryAddWithoutValidation(StoreWire.CorrelationVectorHeader, correlationVector);
        using var response = await SendMeasuredAsync(request, correlationVector, cancellationToken);
        LogRenew(logger, (int)response.StatusCode, ucid.Fingerprint, correlationVector, StoreWire.Header(response, StoreWire.CorrelationVectorHeader));
        if (!response.IsSuccessStatusCode)
        {
            // Mapped from the status and headers alone, as for every other Store call: the body is never read.
            var failure = CollectionsClient.MapFailure(response, time.GetUtcNow());
            // The renew endpoint answers 400 for a key it will not renew.
            var kind = response.StatusCode == HttpStatusCode.BadRequest ? StoreFailureKind.UcidRefused : failure.Failure!.Value;
            var detail = kind == StoreFailureKind.UcidRefused ? "The Store refused to renew this UserCollectionsId; mint a new one." : failure.Detail;
            return (response.StatusCode, RenewResult.Fail(kind, detail, failure.RetryAfter));
        }
        // Read within the deadline (a stalled body is a timeout) and bounded; a body that breaks off after the headers is
        // the Store's answer gone wrong (502), as for every other Store call, not an unreachable Store.
        try
        {
            await response.Content.LoadIntoBufferAsync(MaxBodyBytes, cancellationToken);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
        {
            return (response.StatusCode, RenewResult.Fail(StoreFailureKind.Error,
                $"The Store's {(int)response.StatusCode} renew answer is larger than the {MaxBodyBytes / 1024} KiB the gateway reads: it was not read."));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (response.StatusCode, RenewResult.Fail(StoreFailureKind.Error, $"The Store's {(int)response.StatusCode} renew answer broke off after its headers."));
        }
        try
        {
            await StoreContentCoding.DecodedAsync(response, MaxBodyBytes, cancellationToken);
        }
        catch (Resilience.StoreUnreadableAnswerException ex)
        {
            return (response.StatusCode, RenewResult.Fail(StoreFailureKind.Error, ex.Message));
        }
        try
        {
            var body = JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken), StoreJsonContext.Default.RenewKeyResponse);
            var renewed = UserCollectionsId.TryParse(body?.Key, out _);
            if (renewed is null) return (response.StatusCode, RenewResult.Fail(StoreFailureKind.Error, "The Store's renew answer held no valid key."));
            if (RenewedAnother(ucid, renewed) is { } other)
                return (response.StatusCode, RenewResult.Fail(StoreFailureKind.Error, $"The Store's renew answer is a key for {other}; it is not handed on."));
            // Judged as the gateway judges a key at its first use, by the same check: a client told a key was renewed that
            // the next query refuses would not know why.
            return (response.StatusCode, validator.CheckRemembered(renewed, out _) != UcidProblem.None
                ? RenewResult.Fail(StoreFailureKind.Error, "The Store's renew answer is a key this gateway would refuse (without an expiry or past it, not valid yet, or for another audience); it is not handed on.")
                : new RenewResult(renewed, null, null, ""));
        }
        catch (JsonException)
        {
            return (response.StatusCode, RenewResult.Fail(StoreFailureKind.Error, "The Store answered with a body that is not the documented JSON."));
        }
    }

    private async Task<HttpResponseMessage> SendMeasuredAsync(HttpRequestMessage request, string correlationVector, CancellationToken cancellationToken)
    {
        using var activity = GatewayActivities.StartStoreCall(Emulator.StoreOperations.Renew.Name, 0, correlationVector.EndsWith(".2", StringComparison.Ordinal) ? 2 : 1);
        GatewayActivities.Propagate(request, activity);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            GatewayActivities.StoreAnswered(activity, response, correlationVector);
            metrics.StoreCall(Emulator.StoreOperations.Renew.Name, StoreOutcomes.Of(response.StatusCode), Stopwatch.GetElapsedTime(started).TotalSeconds);
            return response;
        }
        catch (Exception ex) when (StoreOutcomes.Of(ex) is { } outcome)
        {
            GatewayActivities.StoreFailed(activity, outcome);
            metrics.StoreCall(Emulator.StoreOperations.Renew.Name, outcome, Stopwatch.GetElapsedTime(started).TotalSeconds);
            throw;
        }
    }

    /// <summary>
    /// Whom a renewed key names that the old one did not: another player (the old key named one) or another application.
    /// A mixed-up answer from a front end must not hand one player's credential to another; null when it names the same.
    /// </summary>
    internal static string? RenewedAnother(UserCollectionsId old, UserCollectionsId renewed)
    {
        if (!string.IsNullOrEmpty(old.UserId) && !string.Equals(old.UserId, renewed.UserId, StringComparison.Ordinal)) return "another player";
        return string.Equals(old.ClientId, renewed.ClientId, StringComparison.Ordinal) ? null : "another application";
    }

    [LoggerMessage(EventId = EventIds.StoreRenew, EventName = nameof(EventIds.StoreRenew), Level = LogLevel.Information, Message = "Store renew answered {StatusCode} for ucid {UcidHash}; sent MS-CV {SentMsCv}; MS-CV {MsCv}")]
    private static partial void LogRenew(ILogger logger, int statusCode, string ucidHash, string sentMsCv, string? msCv);

    [LoggerMessage(EventId = EventIds.ServiceTokenFailed, EventName = nameof(EventIds.ServiceTokenFailed), Level = LogLevel.Error, Message = "Service token acquisition failed: {MsalErrorCode}")]
    private static partial void LogTokenFailure(ILogger logger, string msalErrorCode);
}
