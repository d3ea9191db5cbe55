using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>The API description: the document behind the ops check when protected (the stock UI page is served and asks
/// for the key), both absent when off.</summary>
public sealed class OpenApiGuardTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task Swagger_WhenProtected_NeedsTheOpsCheck_WhenOff_IsGone()
    {
        await using (var gateway = Gateway(new() { ["Ops:Swagger"] = "Protected" }))
        {
            using var client = gateway.CreateClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/openapi/v1.json")).StatusCode);
            // The page a browser opens without headers; it asks for the key before fetching the document.
            using var page = await client.GetAsync("/swagger/index.html");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("entitlement-gateway-ops-credential", await (await client.GetAsync("/swagger/index.js")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
            request.Headers.Add("X-Api-Key", OpsKey);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }
        await using (var gateway = Gateway(new() { ["Ops:Swagger"] = "Off" }))
        {
            using var client = gateway.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v1.json")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/swagger/index.html")).StatusCode);
        }
    }
}
