using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

public class StoreTokenTests
{
    [Fact]
    public void AuthorizationValue_IsTheBearerSchemeAndTheToken()
    {
        var token = new StoreToken("eyJ0.eyJ1.c2ln", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
        Assert.Equal("Bearer eyJ0.eyJ1.c2ln", token.AuthorizationValue);
    }
}
