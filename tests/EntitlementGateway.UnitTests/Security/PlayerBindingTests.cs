using System.Security.Claims;
using EntitlementGateway.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Security;

public class PlayerBindingTests
{
    private static PlayerBinding Binding(bool enabled) => new(Options.Create(new PlayerAuthOptions { Enabled = enabled }));

    [Fact]
    public void UserOf_WithBindingOn_IsTheRequestsAuthenticatedUser()
    {
        var player = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "player-7")], "test"));
        var http = new DefaultHttpContext { User = player };

        Assert.Same(player, Binding(enabled: true).UserOf(http));
    }

    [Fact]
    public void UserOf_WithBindingOff_MakesNoPrincipalForTheRequest()
    {
        // Asking a request no scheme authenticated for its user makes an empty principal on the spot; with binding off
        // nothing reads it, so it is not asked for.
        var http = new DefaultHttpContext();

        var user = Binding(enabled: false).UserOf(http);

        Assert.Null(http.Features.Get<IHttpAuthenticationFeature>()?.User);
        Assert.Same(user, Binding(enabled: false).UserOf(new DefaultHttpContext()));
        Assert.Empty(user.Identities);
    }

    [Fact]
    public void UserOf_NullRequest_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Binding(enabled: false).UserOf(null!));
    }
}
