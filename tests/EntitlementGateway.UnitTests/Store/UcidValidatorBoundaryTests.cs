using System.Text.Json.Nodes;
using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>The exact edges of a UCID's validity window, and what each refusal tells the client.</summary>
public class UcidValidatorBoundaryTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly UcidValidator _validator = new(
        new LiveStoreLocator(Options.Create(new StoreOptions { ClientId = TestUcid.ClientId, ClientSecret = "s", TenantId = "t" })),
        new ManualTimeProvider(Now));

    [Fact]
    public void Validate_WhenExpIsExactlyNow_IsExpired()
    {
        var problem = _validator.Validate(TestUcid.Create(Now, expiresIn: TimeSpan.Zero), out _, out var detail);

        Assert.Equal(UcidProblem.Expired, problem);
        Assert.Contains("expired", detail);
    }

    [Fact]
    public void Validate_WhenExpIsOneSecondAhead_IsAcceptedWithAnEmptyDetail()
    {
        var problem = _validator.Validate(TestUcid.Create(Now, expiresIn: TimeSpan.FromSeconds(1)), out var ucid, out var detail);

        Assert.Equal(UcidProblem.None, problem);
        Assert.NotNull(ucid);
        Assert.Equal("", detail);
    }

    [Fact]
    public void Validate_WhenNbfIsExactlyTheClockSkewAhead_IsAccepted()
    {
        var problem = _validator.Validate(TestUcid.Create(Now, notBeforeOffset: UcidValidator.ClockSkew), out _, out var detail);

        Assert.Equal(UcidProblem.None, problem);
        Assert.Equal("", detail);
    }

    [Fact]
    public void Validate_WhenNbfIsOneSecondPastTheClockSkew_IsNotValidYetAndSaysNbf()
    {
        var problem = _validator.Validate(
            TestUcid.Create(Now, notBeforeOffset: UcidValidator.ClockSkew + TimeSpan.FromSeconds(1)), out _, out var detail);

        Assert.Equal(UcidProblem.Expired, problem);
        Assert.Contains("'nbf'", detail);
    }

    [Fact]
    public void Validate_WithoutExp_IsInvalidAndSaysExp()
    {
        var claims = new JsonObject
        {
            ["aud"] = UserCollectionsId.CollectionsAudience,
            [UserCollectionsId.ClientIdClaim] = TestUcid.ClientId,
            [UserCollectionsId.UserIdClaim] = "player-1",
        };

        var problem = _validator.Validate(TestUcid.Jwt(claims), out _, out var detail);

        Assert.Equal(UcidProblem.Invalid, problem);
        Assert.Contains("'exp'", detail);
    }

    [Fact]
    public void Validate_ClientIdDiffersOnlyInCase_IsAccepted()
    {
        // GUIDs are case-insensitive: the Store may print the app's client id in upper case.
        var problem = _validator.Validate(TestUcid.Create(Now, clientId: TestUcid.ClientId.ToUpperInvariant()), out _, out _);

        Assert.Equal(UcidProblem.None, problem);
    }
}
