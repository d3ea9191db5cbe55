using Microsoft.Extensions.Options;

namespace EntitlementGateway.Entitlements;

/// <summary>A Game Pass tier the gateway asks the Store about: its name in answers and its product id.</summary>
public sealed record GamePassTier(string Name, string ProductId);

/// <summary>The Game Pass tiers <c>POST /v1/subscriptions/game-pass</c> asks about (section <c>GamePass</c>).</summary>
public sealed class GamePassOptions
{
    public const string Section = "GamePass";

    /// <summary>The tiers as the Store's documentation lists them (the retired Console tier left out).</summary>
    public const string DocumentedTiers =
        "Ultimate=CFQ7TTC0KHS0,Premium=CFQ7TTC0P85B,Essential=CFQ7TTC0K5DJ,PC=CFQ7TTC0KGQ8,Starter=CFQ7TTC10QFD";

    /// <summary>Comma-separated <c>Name=PRODUCTID</c>, in the order answers list them; keep the tiers your publisher is
    /// authorised for (the Store shows the others' subscribers as owning nothing).</summary>
    public string Tiers { get; set; } = DocumentedTiers;

    private sealed record Parsed(string? Source, IReadOnlyList<GamePassTier> Tiers);

    private Parsed? _parsed;

    /// <summary>The parsed tiers (entries without '=' have an empty product id, which the validator refuses).</summary>
    public IReadOnlyList<GamePassTier> Parse()
    {
        var source = Tiers;
        if (_parsed is { } cached && ReferenceEquals(cached.Source, source)) return cached.Tiers;
        var tiers = (source ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry => entry.Split('=', 2, StringSplitOptions.TrimEntries))
            .Select(parts => new GamePassTier(parts[0], parts.Length > 1 ? parts[1] : ""))
            .ToList();
        _parsed = new Parsed(source, tiers);
        return tiers;
    }

    /// <summary>The product selectors of the tiers: what the v9 query asks for.</summary>
    public IReadOnlyList<ProductSelector> Products() => Parse().Select(t => new ProductSelector(t.ProductId, null)).ToList();
}

public sealed class GamePassOptionsValidator : IValidateOptions<GamePassOptions>
{
    public ValidateOptionsResult Validate(string? name, GamePassOptions options)
    {
        var tiers = options.Parse();
        if (tiers.Count is 0 or > ProductRules.MaxProducts)
            return ValidateOptionsResult.Fail($"GamePass:Tiers must list 1 to {ProductRules.MaxProducts} tiers as Name=PRODUCTID, comma-separated.");
        var bad = tiers.Where(t => t.Name.Length == 0 || !ProductRules.IsProductId(t.ProductId)).Select(t => $"{t.Name}={t.ProductId}").ToList();
        if (bad.Count > 0)
            return ValidateOptionsResult.Fail($"GamePass:Tiers has invalid entries ({string.Join(", ", bad)}): each is a name, '=', and a 12-character Store ID.");
        return tiers.DistinctBy(t => t.ProductId).Count() == tiers.Count && tiers.DistinctBy(t => t.Name, StringComparer.OrdinalIgnoreCase).Count() == tiers.Count
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("GamePass:Tiers names a tier or a product id twice.");
    }
}
