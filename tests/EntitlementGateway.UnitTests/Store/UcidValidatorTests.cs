using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

public class UcidValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly UcidValidator _validator = new(
        new LiveStoreLocator(Options.Create(new StoreOptions { ClientId = TestUcid.ClientId, ClientSecret = "s", TenantId = "t" })),
        new ManualTimeProvider(Now));

    [Fact]
    public void Validate_WellFormedUcid_IsAcceptedWithItsUserIdAsBudgetKey()
    {
        var problem = _validator.Validate(TestUcid.Create(Now), out var ucid, out _);

        Assert.Equal(UcidProblem.None, problem);
        Assert.Equal("player-1", ucid!.UserId);
        Assert.Equal("user-player-1", ucid.BudgetKey);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    [InlineData("a.!!!.c")]
    [InlineData("eyJhbGciOiJub25lIn0.bm90IGpzb24.c2ln")]
    public void Validate_WhenNotAJwt_IsInvalid(string value)
    {
        Assert.Equal(UcidProblem.Invalid, _validator.Validate(value, out _, out var detail));
        Assert.Contains("userCollectionsId", detail);
    }

    [Fact]
    public void Validate_WhenAudienceIsWrong_IsInvalidAndSaysSo()
    {
        var problem = _validator.Validate(TestUcid.Create(Now, audience: "https://example.com"), out _, out var detail);
        Assert.Equal(UcidProblem.Invalid, problem);
        Assert.Contains("audience", detail);
    }

    [Fact]
    public void Validate_WhenClientIdIsAnotherApps_IsInvalid()
    {
        var problem = _validator.Validate(TestUcid.Create(Now, clientId: "99999999-0000-0000-0000-000000000000"), out _, out var detail);
        Assert.Equal(UcidProblem.Invalid, problem);
        Assert.Contains("client id", detail);
    }

    [Fact]
    public void Validate_WhenExpired_IsExpired()
    {
        var problem = _validator.Validate(TestUcid.Create(Now, expiresIn: TimeSpan.FromSeconds(-1)), out _, out var detail);
        Assert.Equal(UcidProblem.Expired, problem);
        Assert.Contains("expired", detail);
    }

    [Fact]
    public void Validate_WhenNotYetValidBeyondSkew_IsExpired()
    {
        Assert.Equal(UcidProblem.Expired, _validator.Validate(TestUcid.Create(Now, notBeforeOffset: TimeSpan.FromMinutes(5)), out _, out _));
        Assert.Equal(UcidProblem.None, _validator.Validate(TestUcid.Create(Now, notBeforeOffset: TimeSpan.FromSeconds(30)), out _, out _));
    }

    [Fact]
    public void BudgetKey_WithoutUserId_IsAHashOfTheWholeUcidNotTheUcid()
    {
        var value = TestUcid.Create(Now, userId: null);
        _validator.Validate(value, out var ucid, out _);

        Assert.StartsWith("ucid-", ucid!.BudgetKey);
        Assert.DoesNotContain(value, ucid.BudgetKey);
        Assert.NotEqual(ucid.BudgetKey, UserCollectionsId.TryParse(TestUcid.Create(Now.AddSeconds(1), userId: null), out _)!.BudgetKey);
    }

    [Fact]
    public void Fingerprint_IsShortAndStable()
    {
        var value = TestUcid.Create(Now);
        Assert.Equal(12, UserCollectionsId.FingerprintOf(value).Length);
        Assert.Equal(UserCollectionsId.FingerprintOf(value), UserCollectionsId.FingerprintOf(value));
    }
}
