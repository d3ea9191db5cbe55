using System.Text.Json;
using System.Text.Json.Serialization;
using EntitlementGateway.Entitlements;

namespace EntitlementGateway.Api;

/// <summary>A game client's entitlement query.</summary>
/// <param name="UserCollectionsId">The UserCollectionsId the game got from XStoreGetUserCollectionsIdAsync.</param>
/// <param name="Products">1 to 100 products to check; may be omitted when the gateway has a default catalog (Catalog:Products).</param>
/// <param name="ProductTypes">Optional kinds to keep: Game, Application, Durable, Consumable, UnmanagedConsumable, Pass.</param>
/// <param name="IncludeSatisfyingItems">Include products granted through bundles and subscriptions (default true).</param>
public sealed record EntitlementQueryRequest(
    string? UserCollectionsId,
    IReadOnlyList<ProductSkuRequest>? Products,
    IReadOnlyList<string>? ProductTypes,
    bool? IncludeSatisfyingItems);

/// <summary>A product to check.</summary>
/// <param name="ProductId">The Store ID: 12 upper-case letters or digits, e.g. 9N30KZZF4BR9.</param>
/// <param name="SkuId">Optional SKU: 4 digits, e.g. 0010.</param>
public sealed record ProductSkuRequest(string? ProductId, string? SkuId);

/// <summary>What the player owns right now: Active, inside its validity window, one per product and SKU.</summary>
/// <param name="Entitlements">The entitlements, ordered by product and SKU.</param>
/// <param name="ServedFrom">Where the answer came from: upstream (the Store), cache, or stale.</param>
public sealed record EntitlementQueryResponse(IReadOnlyList<Entitlement> Entitlements, string ServedFrom);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(EntitlementQueryRequest))]
[JsonSerializable(typeof(EntitlementQueryResponse))]
[JsonSerializable(typeof(ConsumeRequest))]
[JsonSerializable(typeof(ConsumeResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
