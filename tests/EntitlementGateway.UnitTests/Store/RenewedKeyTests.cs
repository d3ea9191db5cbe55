using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>A renewed key is handed on only when it names the player and application the old key named.</summary>
public sealed class RenewedKeyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static UserCollectionsId Key(string? userId, string? clientId = TestUcid.ClientId) =>
        UserCollectionsId.TryParse(TestUcid.Create(Now, userId: userId, clientId: clientId), out _)!;

    [Fact]
    public void TheSamePlayerAndApplication_IsNoOtherOne() =>
        Assert.Null(UserCollectionsKeysClient.RenewedAnother(Key("p1"), Key("p1")));

    [Theory]
    [InlineData("p2")]
    [InlineData("P1")]
    [InlineData(null)]
    [InlineData("")]
    public void AnotherOrNoPlayer_WhereTheOldKeyNamedOne_IsAnotherPlayer(string? renewedUser) =>
        Assert.Equal("another player", UserCollectionsKeysClient.RenewedAnother(Key("p1"), Key(renewedUser)));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void AnOldKeyWithoutAPlayer_IsCheckedForItsApplicationOnly(string? oldUser)
    {
        Assert.Null(UserCollectionsKeysClient.RenewedAnother(Key(oldUser), Key("p9")));
        Assert.Equal("another application", UserCollectionsKeysClient.RenewedAnother(Key(oldUser), Key("p9", "other-app")));
    }

    [Theory]
    [InlineData("other-app")]
    [InlineData(null)]
    public void AnotherApplication_IsNamed(string? renewedClient) =>
        Assert.Equal("another application", UserCollectionsKeysClient.RenewedAnother(Key("p1"), Key("p1", renewedClient)));
}
