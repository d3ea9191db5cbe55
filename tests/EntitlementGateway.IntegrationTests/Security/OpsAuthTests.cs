using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>Who may call the ops endpoints: the ops API key, or an operator token with the ops role.</summary>
public sealed class OpsAuthTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task Ops_RequiresTheApiKeyOrAnOperatorTokenWithTheRole()
    {
        using var idp = new TestTokens();
        await using var gateway = Gateway(new()
        {
            ["Ops:Issuer"] = TestTokens.Issuer,
            ["Ops:Audience"] = "gateway-ops",
            ["Ops:SigningKeyPem"] = idp.PublicKeyPem,
        });
        using var client = gateway.CreateClient();

        async Task<HttpStatusCode> GetAsync(Action<HttpRequestMessage> authorize)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/budgets/user-someone");
            authorize(request);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(_ => { }));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(r => r.Headers.Add("X-Api-Key", "wrong-key-0123456789-0123456789-012345")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(r => r.Headers.Add("X-Api-Key", OpsKey)));
        var operatorToken = idp.Create("gateway-ops", new Dictionary<string, object> { ["roles"] = new[] { "EntitlementGateway.Ops" } });
        Assert.Equal(HttpStatusCode.OK, await GetAsync(r => r.Headers.Authorization = new("Bearer", operatorToken)));
        var plainToken = idp.Create("gateway-ops", new Dictionary<string, object> { ["roles"] = new[] { "Reader" } });
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(r => r.Headers.Authorization = new("Bearer", plainToken)));
    }

    [Fact]
    public async Task Ops_WithoutACredential_Is401NamingTheOpsKey_WithAChallenge()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();

        using var response = await client.GetAsync("/ops/budgets/user-someone");

        var problem = await GatewayQueries.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("X-Api-Key", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", response.Headers.WwwAuthenticate.ToString());
    }
}
