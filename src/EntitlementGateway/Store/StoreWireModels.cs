using System.Text.Json;
using System.Text.Json.Serialization;

namespace EntitlementGateway.Store;

// Wire models of the Store's Collections v8 API, with its exact field names. Answers are read leniently: unknown
// fields are ignored, optional ones may be missing or null, and the documented variants of a field are all accepted.

/// <summary>Body of <c>POST /v8.0/collections/b2bLicensePreview</c>.</summary>
public sealed record B2bLicensePreviewRequest
{
    /// <summary>The UCID; null (left out) on a call made with the player's delegated Xbox authorization.</summary>
    [JsonPropertyName("beneficiaries")] public IReadOnlyList<StoreBeneficiary>? Beneficiaries { get; init; }
    [JsonPropertyName("productSkuIds")] public required IReadOnlyList<StoreProductSkuId> ProductSkuIds { get; init; }
    [JsonPropertyName("continuationToken")] public string? ContinuationToken { get; init; }
    [JsonPropertyName("maxPageSize")] public int MaxPageSize { get; init; } = 100;
    // No entitlementFilters: the documents list product types as its values but do not show how they are written, and
    // the gateway filters product kinds itself, so the optional field is left out rather than guessed.
    [JsonPropertyName("market")] public string Market { get; init; } = "neutral";
    [JsonPropertyName("expandSatisfyingItems")] public bool ExpandSatisfyingItems { get; init; } = true;
    [JsonPropertyName("excludeDuplicates")] public bool ExcludeDuplicates { get; init; } = true;
    [JsonPropertyName("validityType")] public string? ValidityType { get; init; }
    [JsonPropertyName("sbx")] public string? Sandbox { get; init; }
}

/// <summary>
/// Body of <c>POST /v9.0/collections/publisherQuery</c>: products are required (at most 100), pages reach 200 items, and
/// there is no market, expandSatisfyingItems or entitlementFilters (satisfying items are always expanded).
/// </summary>
public sealed record PublisherQueryRequest
{
    public const int MaxPageSizeLimit = 200;

    /// <summary>The UCID; null (left out) on a call made with the player's delegated Xbox authorization.</summary>
    [JsonPropertyName("beneficiaries")] public IReadOnlyList<StoreBeneficiary>? Beneficiaries { get; init; }
    [JsonPropertyName("productSkuIds")] public required IReadOnlyList<StoreProductSkuId> ProductSkuIds { get; init; }
    [JsonPropertyName("continuationToken")] public string? ContinuationToken { get; init; }
    [JsonPropertyName("maxPageSize")] public int MaxPageSize { get; init; } = MaxPageSizeLimit;
    [JsonPropertyName("excludeDuplicates")] public bool ExcludeDuplicates { get; init; } = true;
    [JsonPropertyName("validityType")] public string? ValidityType { get; init; }
    [JsonPropertyName("sbx")] public string? Sandbox { get; init; }
}

/// <summary>The user of a collections query (v8 and v9), with the field names of the documented request examples,
/// which spell the type <c>identitytype</c>.</summary>
public sealed record StoreBeneficiary(
    [property: JsonPropertyName("identitytype")] string IdentityType,
    [property: JsonPropertyName("identityValue")] string IdentityValue,
    [property: JsonPropertyName("localTicketReference")] string LocalTicketReference);

/// <summary>The user of a consume: one object, its type spelled <c>identityType</c>.</summary>
public sealed record ConsumeBeneficiary(
    [property: JsonPropertyName("identityType")] string IdentityType,
    [property: JsonPropertyName("identityValue")] string IdentityValue,
    [property: JsonPropertyName("localTicketReference")] string LocalTicketReference);

public sealed record StoreProductSkuId(
    [property: JsonPropertyName("productId")] string ProductId,
    [property: JsonPropertyName("skuId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SkuId);

/// <summary>One page of a collections query answer, v8 (B2bLicensePreview) or v9 (PublisherQuery): the same shape.</summary>
public sealed record B2bLicensePreviewResponse
{
    [JsonPropertyName("items")] public IReadOnlyList<StoreCollectionItem>? Items { get; set; }
    [JsonPropertyName("continuationToken")] public string? ContinuationToken { get; set; }
}

/// <summary>A <c>CollectionItemContractV8</c>; only the fields the gateway uses are typed.</summary>
public sealed record StoreCollectionItem
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("productId")] public string? ProductId { get; set; }
    [JsonPropertyName("skuId")] public string? SkuId { get; set; }
    // The doc's table says productType, its examples and the service say productKind: accept both.
    [JsonPropertyName("productKind")] public string? ProductKind { get; set; }
    [JsonPropertyName("productType")] public string? ProductType { get; set; }
    [JsonPropertyName("status")] public string? Status { get; set; }
    [JsonPropertyName("acquisitionType")] public string? AcquisitionType { get; set; }
    [JsonPropertyName("quantity"), JsonConverter(typeof(StoreBalanceConverter))] public int? Quantity { get; set; }
    [JsonPropertyName("startDate"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? StartDate { get; set; }
    [JsonPropertyName("endDate"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? EndDate { get; set; }
    [JsonPropertyName("acquiredDate"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? AcquiredDate { get; set; }
    [JsonPropertyName("modifiedDate"), JsonConverter(typeof(StoreDateConverter))] public DateTimeOffset? ModifiedDate { get; set; }
    [JsonPropertyName("transactionId")] public string? TransactionId { get; set; }
    [JsonPropertyName("satisfiedByProductIds")] public IReadOnlyList<string>? SatisfiedByProductIds { get; set; }
    [JsonPropertyName("trialData")] public StoreTrialData? TrialData { get; set; }

    [JsonIgnore] public string? Kind => ProductKind ?? ProductType;
}

public sealed record StoreTrialData
{
    [JsonPropertyName("isTrial")] public bool IsTrial { get; set; }
    [JsonPropertyName("isInTrialPeriod")] public bool IsInTrialPeriod { get; set; }
    /// <summary>As the Store wrote it: the documented <c>DD:HH:MM:SS.MS</c>, or <c>HH:MM:SS.fffffff</c> as its example shows.</summary>
    [JsonPropertyName("trialTimeRemaining"), JsonConverter(typeof(StoreTextConverter))] public string? TrialTimeRemaining { get; set; }
}

/// <summary>The renew call (<c>POST /v6.0/b2b/keys/renew</c>).</summary>
public sealed record RenewKeyRequest(
    [property: JsonPropertyName("serviceTicket")] string ServiceTicket,
    [property: JsonPropertyName("key")] string Key);

public sealed record RenewKeyResponse([property: JsonPropertyName("key")] string? Key);

// A member named twice is refused, not resolved last-one-wins: a second "continuationToken":null or "status":"Active"
// would otherwise decide completeness or ownership unseen. Unknown members are read past up to 1,024 levels deep (the
// reader's default of 64 would refuse a whole page for one deep field nobody reads); skipping them, and reading a
// JsonElement, does not recurse.
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNameCaseInsensitive = true,
    AllowDuplicateProperties = false, MaxDepth = 1024)]
[JsonSerializable(typeof(B2bLicensePreviewRequest))]
[JsonSerializable(typeof(B2bLicensePreviewResponse))]
[JsonSerializable(typeof(PublisherQueryRequest))]
[JsonSerializable(typeof(RenewKeyRequest))]
[JsonSerializable(typeof(RenewKeyResponse))]
[JsonSerializable(typeof(ConsumeStoreRequest))]
[JsonSerializable(typeof(ConsumeStoreResponse))]
[JsonSerializable(typeof(StoreErrorBody))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;
