using System.Text.Json;
using System.Text.Json.Serialization;
using EntitlementGateway.Entitlements;

namespace EntitlementGateway.Api;

/// <summary>A game client's entitlement query.</summary>
/// <param name="UserCollectionsId">The UserCollectionsId the game got from XStoreGetUserCollectionsIdAsync; or send xbox instead.</param>
/// <param name="Products">1 to 100 products to check; may be omitted when the gateway has a default catalog (Catalog:Products).</param>
/// <param name="ProductTypes">Optional kinds to keep: Game, Application, Durable, Consumable, UnmanagedConsumable, Pass.</param>
/// <param name="IncludeSatisfyingItems">Include products granted through bundles and subscriptions (default true; no effect with Store:QueryApi=V9, which always includes them).</param>
/// <param name="Xbox">Instead of userCollectionsId: the player's delegated Xbox authorization (Xbox and Xbox-Live-enabled PC titles).</param>
public sealed record EntitlementQueryRequest(
    UcidText? UserCollectionsId,
    IReadOnlyList<ProductSkuRequest>? Products,
    IReadOnlyList<string>? ProductTypes,
    bool? IncludeSatisfyingItems,
    XboxCredentials? Xbox = null)
{
    // Read on every query, cache hits included: with a parameterless constructor and settable properties the serializer
    // fills the object directly, instead of gathering five constructor arguments first (a fifth of the body's parse).
    [JsonConstructor]
    public EntitlementQueryRequest() : this(null, null, null, null) { }

    /// <summary>The UserCollectionsId the game got from XStoreGetUserCollectionsIdAsync; or send xbox instead.</summary>
    public UcidText? UserCollectionsId { get; set; } = UserCollectionsId;

    /// <summary>1 to 100 products to check; may be omitted when the gateway has a default catalog (Catalog:Products).</summary>
    public IReadOnlyList<ProductSkuRequest>? Products { get; set; } = Products;

    /// <summary>Optional kinds to keep: Game, Application, Durable, Consumable, UnmanagedConsumable, Pass.</summary>
    public IReadOnlyList<string>? ProductTypes { get; set; } = ProductTypes;

    /// <summary>Include products granted through bundles and subscriptions (default true; no effect with Store:QueryApi=V9, which always includes them).</summary>
    public bool? IncludeSatisfyingItems { get; set; } = IncludeSatisfyingItems;

    /// <summary>Instead of userCollectionsId: the player's delegated Xbox authorization (Xbox and Xbox-Live-enabled PC titles).</summary>
    public XboxCredentials? Xbox { get; set; } = Xbox;
}

/// <summary>
/// The player's delegated Xbox authorization, as the game got it for the Store's request: forwarded to the Store as its
/// Authorization and Signature headers, never logged or kept.
/// </summary>
/// <param name="Authorization">XBL3.0 x={userhash};{token}</param>
/// <param name="Signature">The Signature header value that came with the token (base64).</param>
public sealed record XboxCredentials(string? Authorization, string? Signature);

/// <summary>Does the player have Xbox Game Pass now?</summary>
/// <param name="UserCollectionsId">The player's UserCollectionsId; or send xbox instead.</param>
/// <param name="Xbox">Instead of userCollectionsId: the player's delegated Xbox authorization.</param>
public sealed record GamePassRequest(string? UserCollectionsId, XboxCredentials? Xbox);

/// <summary>The player's Game Pass status, among the tiers this gateway asks about (GamePass:Tiers).</summary>
/// <param name="Active">Whether the player has any of those tiers now.</param>
/// <param name="Tiers">The tiers the Store shows as active, in the configured order (a higher tier also shows the lower ones it includes, when the publisher may see them).</param>
/// <param name="ServedFrom">Where the answer came from: upstream (the Store), cache, or stale.</param>
public sealed record GamePassResponse(bool Active, IReadOnlyList<string> Tiers, string ServedFrom);

/// <summary>A product to check.</summary>
/// <param name="ProductId">The Store ID: 12 upper-case letters or digits, e.g. 9N30KZZF4BR9.</param>
/// <param name="SkuId">Optional SKU: 4 digits, e.g. 0010.</param>
public sealed record ProductSkuRequest(string? ProductId, string? SkuId = null);

/// <summary>What the player owns right now: Active, inside its validity window, one per product and SKU.</summary>
/// <param name="Entitlements">The entitlements, ordered by product and SKU.</param>
/// <param name="ServedFrom">Where the answer came from: upstream (the Store), cache, or stale.</param>
public sealed record EntitlementQueryResponse(IReadOnlyList<Entitlement> Entitlements, string ServedFrom);

// Strict numbers: the web defaults would read "10" as 10, and a consume's quantity must be the number it says it is.
// No repeated fields (names match in any letter case): a proxy or audit log that reads the first "quantity" would see
// another request than the gateway runs, which would read the last.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(EntitlementQueryRequest))]
[JsonSerializable(typeof(EntitlementQueryResponse))]
[JsonSerializable(typeof(ConsumeRequest))]
[JsonSerializable(typeof(ConsumeResponse))]
[JsonSerializable(typeof(GamePassRequest))]
[JsonSerializable(typeof(GamePassResponse))]
[JsonSerializable(typeof(RenewUserCollectionsIdRequest))]
[JsonSerializable(typeof(OpsActionRequest))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
