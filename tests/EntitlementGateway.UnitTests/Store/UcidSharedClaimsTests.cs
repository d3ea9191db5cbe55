using EntitlementGateway.Store;
using EntitlementGateway.UnitTests.Infrastructure;

namespace EntitlementGateway.UnitTests.Store;

[Collection(SharedStringsCollection.Name)]
public class UcidSharedClaimsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TryParse_TwoPlayersOfOneGame_HoldOneInstanceOfTheGamesClaims()
    {
        // Each token is decoded into its own strings; what every player of a game has alike is held once.
        var first = UserCollectionsId.TryParse(TestUcid.Create(Now, userId: "player-1"), out var firstError);
        var second = UserCollectionsId.TryParse(TestUcid.Create(Now, userId: "player-2"), out var secondError);
        Assert.Null(firstError);
        Assert.Null(secondError);

        Assert.Equal(TestUcid.ClientId, first!.ClientId);
        Assert.Same(first.ClientId, second!.ClientId);
        Assert.Equal(UserCollectionsId.CollectionsAudience, first.Audience);
        Assert.Same(first.Audience, second.Audience);
        Assert.Equal("https://collections.mp.microsoft.com/v6.0/b2b/keys/renew", first.RefreshUri);
        Assert.Same(first.RefreshUri, second.RefreshUri);
        Assert.NotEqual(first.UserId, second.UserId);
    }
}
