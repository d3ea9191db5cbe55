using EntitlementGateway.Entitlements;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Entitlements;

public class EntitlementQueryTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly UserCollectionsId Ucid = UserCollectionsId.TryParse(TestUcid.Create(Now, "p1"), out _)!;

    private static EntitlementQuery Query(string? credentialHash) =>
        new(Ucid, Ucid.BudgetKey, [new ProductSelector("9N30KZZF4BR9", null)], null, true) { CredentialHash = credentialHash };

    [Fact]
    public void Fingerprint_WithoutTheCallersHash_IsTheUcidsOwn()
    {
        Assert.Equal(Ucid.Fingerprint, Query(null).Fingerprint);
        Assert.Equal(12, Ucid.Fingerprint.Length);
    }

    [Fact]
    public void Fingerprint_WithTheCallersHash_IsTheSameTag()
    {
        Assert.Equal(Ucid.Fingerprint, Query(AcceptedUcids.HashOf(Ucid.Value)).Fingerprint);
    }

    [Fact]
    public void Fingerprint_WithTheCallersHash_IsTakenFromIt_NotFromAnotherHashOfTheToken()
    {
        var given = new string('f', 52) + "0123456789ab";
        Assert.Equal("ffffffffffff", Query(given).Fingerprint);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789ab")]
    public void Fingerprint_WithSomethingThatIsNotAHash_IsTheUcidsOwn(string notAHash)
    {
        Assert.Equal(Ucid.Fingerprint, Query(notAHash).Fingerprint);
    }
}
