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
    public string? IdentityType { get; set; }
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
    IReadOnlyDictionary<string, long> Queries, long RateLimited, long TokensIssued, long Renewals, long FaultsInjected,
    long ProtocolErrors, long ServiceTokenRejections, IReadOnlyDictionary<string, long> Operations,
    IReadOnlyDictionary<string, long> DelegatedCalls);

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
[JsonSerializable(typeof(FaultSettings))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonArray))]
internal sealed partial class EmulatorJson : JsonSerializerContext;
