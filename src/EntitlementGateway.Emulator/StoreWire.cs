using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace EntitlementGateway.Emulator;

// Wire shapes of the Store endpoints the emulator serves. Items themselves stay JsonObject so that
// fields the emulator does not know (or future Store fields in seeds) are echoed back intact.

internal sealed class CollectionsQueryRequest
{
    public List<Beneficiary>? Beneficiaries { get; set; }
    public string? ContinuationToken { get; set; }
    public List<string>? EntitlementFilters { get; set; }
    public bool? ExcludeDuplicates { get; set; }
    public bool? ExpandSatisfyingItems { get; set; }
    public string? Market { get; set; }
    public int? MaxPageSize { get; set; }
    public List<ProductSkuId>? ProductSkuIds { get; set; }
    public string? Sbx { get; set; }
    public string? ValidityType { get; set; }
}

internal sealed class Beneficiary
{
    // The query's documented request examples spell it so; the consume body (read without regard to case) says identityType.
    [JsonPropertyName("identitytype")] public string? IdentityType { get; set; }
    public string? IdentityValue { get; set; }
    public string? LocalTicketReference { get; set; }
}

internal sealed class ProductSkuId
{
    public string? ProductId { get; set; }
    public string? SkuId { get; set; }
}

internal sealed class CollectionsQueryResponse
{
    public required List<JsonObject> Items { get; init; }
    public string? ContinuationToken { get; init; }
}

/// <summary>The decoded continuation token: a JSON string, opaque to callers, like the Store's.</summary>
internal sealed class ConsumeRequest
{
    public Beneficiary? Beneficiary { get; set; }
    public string? ProductId { get; set; }
    public int? RemoveQuantity { get; set; }
    public string? TrackingId { get; set; }
    public bool? IncludeOrderIds { get; set; }
}

/// <summary>The consume service's error body: its code and message, with an inner error of the same shape.</summary>
internal sealed record ConsumeError(string Code, string Message, ConsumeError? Innererror)
{
    public string Source { get; init; } = "EntitlementGateway.Emulator";
}

internal sealed class ContinuationState
{
    public int Offset { get; set; }
    public string? Snapshot { get; set; }
}

/// <summary>Optional body of <c>POST /emulator/users/{userId}/collections-id</c>, to mint unusual UCIDs for tests.</summary>
public sealed class UcidMintRequest
{
    /// <summary>Lifetime from now (negative: already expired). Default: <see cref="EmulatorOptions.UcidLifetimeDays"/>.</summary>
    public long? LifetimeSeconds { get; set; }

    /// <summary>nbf offset from now (positive: not valid yet). Default 0.</summary>
    public long? NotBeforeSeconds { get; set; }

    /// <summary>The clientId claim. Default: <see cref="EmulatorOptions.ClientId"/>.</summary>
    public string? ClientId { get; set; }

    /// <summary>The refreshUri claim. Default: the Store's fixed renew URL.</summary>
    public string? RefreshUri { get; set; }
}

internal sealed record UcidResponse(string UserCollectionsId);

internal sealed record RenewRequest(string? ServiceTicket, string? Key);

internal sealed record RenewResponse(string Key);

internal sealed record CallsResponse(string UserId, IReadOnlyList<string> Calls);

internal sealed record StatsResponse(
    IReadOnlyDictionary<string, long> Queries, IReadOnlyDictionary<string, long> Consumes, long RateLimited, long TokensIssued, long Renewals, long FaultsInjected,
    long ProtocolErrors, long ServiceTokenRejections, IReadOnlyDictionary<string, long> Operations,
    IReadOnlyDictionary<string, long> DelegatedCalls, long ManagedIdentityTokens, IReadOnlyList<string> FederatedAssertions);

/// <summary>What <c>POST /emulator/users/{userId}/xbox-token</c> answers: the two header values a game would get.</summary>
internal sealed record XboxTokenResponse(string Authorization, string Signature);

/// <summary>Body of <c>PUT /emulator/users/{userId}/game-pass</c>: the tiers the player subscribes to now.</summary>
internal sealed class GamePassSeedRequest
{
    public List<string>? Tiers { get; set; }
}

/// <summary>Store-style error body (code + message), as the Collections service answers.</summary>
internal sealed record StoreError(string Code, string Message)
{
    public string Source { get; init; } = "EntitlementGateway.Emulator";
}

/// <summary>Entra ID token endpoint answers: success and the AAD error shape MSAL parses.</summary>
internal sealed record TokenResponse(
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("ext_expires_in")] int ExtExpiresIn,
    [property: JsonPropertyName("access_token")] string AccessToken);

/// <summary>App Service's managed-identity token answer (expires_on in Unix seconds, as a string).</summary>
internal sealed record ManagedIdentityToken(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_on")] string ExpiresOn,
    [property: JsonPropertyName("resource")] string Resource,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("client_id")] string ClientId);

internal sealed record ManagedIdentityError(
    [property: JsonPropertyName("statusCode")] int StatusCode,
    [property: JsonPropertyName("message")] string Message);

internal sealed record AadError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription,
    [property: JsonPropertyName("error_codes")] int[] ErrorCodes,
    [property: JsonPropertyName("timestamp")] string Timestamp,
    [property: JsonPropertyName("trace_id")] string TraceId,
    [property: JsonPropertyName("correlation_id")] string CorrelationId);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CollectionsQueryRequest))]
[JsonSerializable(typeof(CollectionsQueryResponse))]
[JsonSerializable(typeof(ContinuationState))]
[JsonSerializable(typeof(ConsumeRequest))]
[JsonSerializable(typeof(ConsumeError))]
[JsonSerializable(typeof(UcidMintRequest))]
[JsonSerializable(typeof(UcidResponse))]
[JsonSerializable(typeof(RenewRequest))]
[JsonSerializable(typeof(RenewResponse))]
[JsonSerializable(typeof(CallsResponse))]
[JsonSerializable(typeof(StatsResponse))]
[JsonSerializable(typeof(XboxTokenResponse))]
[JsonSerializable(typeof(GamePassSeedRequest))]
[JsonSerializable(typeof(StoreError))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(AadError))]
[JsonSerializable(typeof(ManagedIdentityToken))]
[JsonSerializable(typeof(ManagedIdentityError))]
[JsonSerializable(typeof(FaultSettings))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonArray))]
internal sealed partial class EmulatorJson : JsonSerializerContext;

/// <summary>
/// The collections query body read as strictly as the documents write it: field names exactly as in the documented
/// request (case included), and a field the documents do not list is refused rather than ignored, so a misspelt field
/// the real Store might not read fails here first.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CollectionsQueryRequest))]
internal sealed partial class StrictStoreJson : JsonSerializerContext;
