using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MsalException = Microsoft.Identity.Client.MsalException;

namespace EntitlementGateway.Store;

/// <summary>A renewed UCID, or why not.</summary>
public sealed record RenewResult(UserCollectionsId? Renewed, StoreFailureKind? Failure, TimeSpan? RetryAfter, string Detail);

/// <summary>
/// Renews UCIDs at the one fixed URL, <c>{CollectionsBaseUrl}/v6.0/b2b/keys/renew</c>. Never the <c>refreshUri</c>
/// claim of a client's UCID: that URL is client-controlled, and the renew body carries the service token.
/// </summary>
public sealed partial class UserCollectionsKeysClient(
    HttpClient http,
    IStoreEndpoints endpoints,
    IStoreTokenProvider tokens,
    ILogger<UserCollectionsKeysClient> logger)
{
    public const string RenewPath = "v6.0/b2b/keys/renew";

    public async Task<RenewResult> RenewAsync(UserCollectionsId ucid, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await endpoints.GetAsync(cancellationToken);
            var serviceToken = await tokens.GetServiceTokenAsync(cancellationToken);
            using var response = await http.PostAsync(new Uri(connection.CollectionsBaseUrl, RenewPath),
                StoreWire.JsonBody(new RenewKeyRequest(serviceToken.Value, ucid.Value), StoreJsonContext.Default.RenewKeyRequest), cancellationToken);
            LogRenew(logger, (int)response.StatusCode, ucid.Fingerprint);

            if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadFromJsonAsync(StoreJsonContext.Default.RenewKeyResponse, cancellationToken);
                var renewed = UserCollectionsId.TryParse(body?.Key, out _);
                return renewed is null
                    ? new RenewResult(null, StoreFailureKind.Error, null, "The Store's renew answer held no valid key.")
                    : new RenewResult(renewed, null, null, "");
            }
            return response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest => new RenewResult(null,
                    StoreFailureKind.Unauthorized, null, "The Store refused to renew this UserCollectionsId; mint a new one."),
                HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => new RenewResult(null,
                    StoreFailureKind.Unavailable, CollectionsClient.RetryAfter(response) ?? TimeSpan.FromSeconds(5), "The Store is unavailable."),
                _ => new RenewResult(null, StoreFailureKind.Error, null, $"The Store answered {(int)response.StatusCode}."),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new RenewResult(null, StoreFailureKind.Timeout, null, "The Store did not answer in time.");
        }
        catch (HttpRequestException)
        {
            return new RenewResult(null, StoreFailureKind.Unavailable, TimeSpan.FromSeconds(5), "The Store could not be reached.");
        }
        catch (MsalException ex)
        {
            LogTokenFailure(logger, ex.ErrorCode);
            return new RenewResult(null, StoreFailureKind.Error, null, "The gateway could not obtain its service token.");
        }
        catch (JsonException)
        {
            return new RenewResult(null, StoreFailureKind.Error, null, "The Store answered with a body that is not the documented JSON.");
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Store renew answered {StatusCode} for ucid {UcidHash}")]
    private static partial void LogRenew(ILogger logger, int statusCode, string ucidHash);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "Service token acquisition failed: {MsalErrorCode}")]
    private static partial void LogTokenFailure(ILogger logger, string msalErrorCode);
}
