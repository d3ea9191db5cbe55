using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Entitlements.Caching;

public class QueryCacheKeyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static EntitlementQuery Query(string user, ProductSelector[] products, string[]? kinds = null, bool satisfying = true, string? ucidValue = null)
    {
        var ucid = UserCollectionsId.TryParse(ucidValue ?? TestUcid.Create(Now, user), out _)!;
        return new EntitlementQuery(ucid, ucid.BudgetKey, products,
            kinds is null ? null : new HashSet<string>(kinds, StringComparer.OrdinalIgnoreCase), satisfying);
    }

    [Fact]
    public void Key_IgnoresProductOrderCaseAndDuplicates()
    {
        var ucid = TestUcid.Create(Now, "p1");
        var a = Query("p1", [new("9N30KZZF4BR9", "0010"), new("9MXL21XPWWWK", null)], ["Durable", "Game"], ucidValue: ucid);
        var b = Query("p1", [new("9MXL21XPWWWK", null), new("9n30kzzf4br9", "0010"), new("9N30KZZF4BR9", "0010")], ["game", "DURABLE"], ucidValue: ucid);

        Assert.Equal(QueryCacheKey.For(a), QueryCacheKey.For(b));
    }

    [Fact]
    public void Key_DiffersByPlayerUcidProductsKindsAndSatisfyingItems()
    {
        var ucid = TestUcid.Create(Now, "p1");
        var baseline = QueryCacheKey.For(Query("p1", [new("9N30KZZF4BR9", null)], ucidValue: ucid));

        Assert.NotEqual(baseline, QueryCacheKey.For(Query("p2", [new("9N30KZZF4BR9", null)])));
        Assert.NotEqual(baseline, QueryCacheKey.For(Query("p1", [new("9N30KZZF4BR9", null)], ucidValue: TestUcid.Create(Now.AddSeconds(1), "p1"))));
        Assert.NotEqual(baseline, QueryCacheKey.For(Query("p1", [new("9N30KZZF4BR9", "0010")], ucidValue: ucid)));
        Assert.NotEqual(baseline, QueryCacheKey.For(Query("p1", [new("9N30KZZF4BR9", null)], ["Durable"], ucidValue: ucid)));
        Assert.NotEqual(baseline, QueryCacheKey.For(Query("p1", [new("9N30KZZF4BR9", null)], satisfying: false, ucidValue: ucid)));
    }

    [Fact]
    public void Key_WithTheCallersCredentialHash_IsTheKeyOfTheHashComputedHere()
    {
        var query = Query("p1", [new("9N30KZZF4BR9", null)]);

        Assert.Equal(QueryCacheKey.For(query), QueryCacheKey.For(query with { CredentialHash = AcceptedUcids.HashOf(query.Credential) }));
        // The caller's hash is taken as given, not computed again.
        Assert.NotEqual(QueryCacheKey.For(query), QueryCacheKey.For(query with { CredentialHash = new string('0', 64) }));
    }

    [Fact]
    public void Key_IsTheVersionPlayerCredentialHashAndNormalisedQuery_AndRedisGetsItsSha256()
    {
        var query = Query("p1", [new("9N30KZZF4BR9", null)], ["Game"]);
        var key = QueryCacheKey.For(query);

        Assert.Equal($"v1\n{query.BudgetKey}\n{AcceptedUcids.HashOf(query.Credential)}\n9N30KZZF4BR9|GAME|sat=1", key);
        Assert.DoesNotContain(query.Credential, key, StringComparison.Ordinal);
        Assert.Equal(AcceptedUcids.HashOf(key), QueryCacheKey.Hashed(key));
        Assert.Throws<ArgumentNullException>(() => QueryCacheKey.Hashed(null!));
    }

    [Fact]
    public void NormalisedQuery_IsReadable()
    {
        Assert.Equal("9MXL21XPWWWK,9N30KZZF4BR9/0010|DURABLE,GAME|sat=1",
            QueryCacheKey.NormalisedQuery([new("9N30KZZF4BR9", "0010"), new("9MXL21XPWWWK", null)], ["Game", "Durable"], true));
    }

    [Fact]
    public void Key_OfGeneratedQueries_IsTheGeneralNormalisedForm()
    {
        // The key is built in one buffer without a string per product; it must be exactly what NormalisedQuery (the
        // general form: upper-cased, distinct, ordinal order) gives, whatever the ids' case, duplicates, SKUs,
        // prefixes of one another, lengths or characters (past ASCII: the general path itself).
        var random = new Random(1501);
        var ucid = TestUcid.Create(Now, "p1");
        const string alphabet = "9AZaz0/_-.éΣ";
        string Text(int length) => new([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(random.Next(2) == 0 ? 6 : alphabet.Length)])]);
        for (var round = 0; round < 2_000; round++)
        {
            var count = round % 50 == 0 ? 150 : random.Next(1, 8);
            var products = new ProductSelector[count];
            for (var i = 0; i < count; i++)
            {
                products[i] = i > 0 && random.Next(4) == 0
                    ? products[random.Next(i)] with { ProductId = products[random.Next(i)].ProductId.ToLowerInvariant() }
                    : new ProductSelector(Text(random.Next(round % 97 == 0 ? 100 : 4) + 1), random.Next(3) == 0 ? null : Text(random.Next(4) + 1));
            }
            string[]? kinds = random.Next(3) == 0 ? null : [.. Enumerable.Range(0, random.Next(5)).Select(_ => Text(random.Next(3) + 1))];
            var query = Query("p1", products, kinds, satisfying: random.Next(2) == 0, ucidValue: ucid);

            var expected = $"v1\n{query.BudgetKey}\n{AcceptedUcids.HashOf(query.Credential)}\n" +
                QueryCacheKey.NormalisedQuery(query.Products, query.ProductKinds, query.IncludeSatisfyingItems);
            Assert.Equal(expected, QueryCacheKey.For(query));
        }
    }
}
