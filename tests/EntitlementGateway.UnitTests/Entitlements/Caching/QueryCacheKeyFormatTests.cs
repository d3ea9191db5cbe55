using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Entitlements.Caching;

/// <summary>
/// The key is shared through Redis by every replica (and by the old and new release during a rolling update), so its
/// exact value is a contract: a change to how it is built must be deliberate, with a new version prefix.
/// </summary>
public class QueryCacheKeyFormatTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static EntitlementQuery Query(bool satisfying)
    {
        var ucid = UserCollectionsId.TryParse(TestUcid.Create(Now, "p1"), out _)!;
        return new EntitlementQuery(ucid, ucid.BudgetKey, [new ProductSelector("9N30KZZF4BR9", "0010")],
            new HashSet<string>(["Durable"], StringComparer.OrdinalIgnoreCase), satisfying);
    }

    [Fact]
    public void Hashed_AKnownQuery_IsTheKnownVersion1RedisKey()
    {
        Assert.Equal(KnownKey, QueryCacheKey.Hashed(QueryCacheKey.For(Query(satisfying: true))));
    }

    [Fact]
    public void Hashed_IsALowerCaseSha256Hex()
    {
        Assert.Matches("^[0-9a-f]{64}$", QueryCacheKey.Hashed(QueryCacheKey.For(Query(satisfying: false))));
    }

    [Fact]
    public void For_NullQuery_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => QueryCacheKey.For(null!));
    }

    [Fact]
    public void NormalisedQuery_WithoutSatisfyingItemsOrKinds_SaysSo()
    {
        Assert.Equal("9N30KZZF4BR9|DURABLE|sat=0", QueryCacheKey.NormalisedQuery([new("9n30kzzf4br9", null)], ["durable"], false));
        Assert.Equal("9N30KZZF4BR9||sat=1", QueryCacheKey.NormalisedQuery([new("9N30KZZF4BR9", null)], null, true));
    }

    // SHA-256 of "v1\nuser-p1\n<sha256 of the UCID>\n9N30KZZF4BR9/0010|DURABLE|sat=1" for TestUcid.Create(Now, "p1").
    private const string KnownKey = "1c790cba404a1f193f9b530a77fd8b88acfbc407d23490bf9b0b9b74e89c04bb";
}
