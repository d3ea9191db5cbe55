using EntitlementGateway.Store;
using Microsoft.Identity.Client;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>The start-up token failure names what went wrong by code only: the identity provider's text may echo the request.</summary>
public class StoreTokenAtStartTests
{
    [Fact]
    public void AnIdentityProviderRefusal_IsItsErrorCode() =>
        Assert.Equal("invalid_client", StoreTokenAtStart.Reason(new MsalServiceException("invalid_client", "AADSTS7000215: Invalid client secret provided. secret=abc")));

    [Fact]
    public void ATimeout_IsTimeout() =>
        Assert.Equal("timeout", StoreTokenAtStart.Reason(new StoreTokenTimeoutException()));

    [Fact]
    public void AnythingElse_IsItsTypeName_NotItsMessage() =>
        Assert.Equal("HttpRequestException", StoreTokenAtStart.Reason(new HttpRequestException("no route to login.example secret=abc")));
}
