using EntitlementGateway.Security;
using Microsoft.Extensions.Hosting.Internal;

namespace EntitlementGateway.UnitTests.Security;

/// <summary>A manifest's placeholder identity provider never reaches Production unnoticed.</summary>
public class PlayerAuthPlaceholderTests
{
    private static HostingEnvironment Environment(string name) => new() { EnvironmentName = name };

    private static PlayerAuthOptions Bound(string authority) => new() { Enabled = true, Authority = authority, Audience = "entitlement-gateway" };

    [Theory]
    [InlineData("https://login.your-game.example/")]
    [InlineData("https://login.your-game.EXAMPLE./")]
    [InlineData("https://idp.invalid/")]
    [InlineData("https://idp.test/realms/game")]
    [InlineData("https://example.com/")]
    [InlineData("https://login.example.net/")]
    [InlineData("https://sso.example.org/")]
    public void AReservedExampleName_IsAPlaceholder_RefusedInProductionOnly(string authority)
    {
        Assert.True(PlayerAuthOptionsValidator.IsPlaceholder(authority));
        var refused = new PlayerAuthOptionsValidator(Environment("Production")).Validate(null, Bound(authority));
        Assert.Equal($"PlayerAuth:Authority ({authority}) is a placeholder (a reserved example name): set your game's identity provider's OpenID Connect authority.", Assert.Single(refused.Failures!));
        Assert.True(new PlayerAuthOptionsValidator(Environment("Staging")).Validate(null, Bound(authority)).Succeeded);
    }

    [Theory]
    [InlineData("https://login.example-game.com/")]
    [InlineData("https://myexample.com/")]
    [InlineData("https://example.com.evil.net/")]
    [InlineData("https://login.microsoftonline.com/tenant/v2.0")]
    [InlineData("https://contest.io/")]
    [InlineData("not a url")]
    [InlineData(null)]
    public void AnyOtherAuthority_IsNot(string? authority) =>
        Assert.False(PlayerAuthOptionsValidator.IsPlaceholder(authority));

    [Fact]
    public void ARealAuthority_IsAcceptedInProduction() =>
        Assert.True(new PlayerAuthOptionsValidator(Environment("Production")).Validate(null, Bound("https://login.studio-game.net/")).Succeeded);
}
