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

public class UsableTokenTests
{
    [Theory]
    [InlineData("eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2lnbmF0dXJl")]
    [InlineData("abc-._~+/XYZ019")]
    [InlineData("opaque==")]
    [InlineData("a")]
    public void IsUsableToken_ABearerTokenAsRfc6750SpellsIt_IsUsable(string token) =>
        Assert.True(MsalStoreTokenProvider.IsUsableToken(token));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("=")]
    [InlineData("==")]
    [InlineData("a b")]
    [InlineData("abc\r\nX-Injected: 1")]
    [InlineData("<html>")]
    [InlineData("a=b")]
    [InlineData("tok\u00e9n")]
    public void IsUsableToken_AnythingElse_IsNot(string? token) =>
        Assert.False(MsalStoreTokenProvider.IsUsableToken(token));

    [Fact]
    public void IsUsableToken_LongerThan64KiB_IsNot()
    {
        Assert.True(MsalStoreTokenProvider.IsUsableToken(new string('a', 64 * 1024)));
        Assert.False(MsalStoreTokenProvider.IsUsableToken(new string('a', 64 * 1024 + 1)));
    }
}
