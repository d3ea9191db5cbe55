using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>The API description (OpenAPI document and Swagger UI): behind the ops check when protected, absent when off.</summary>
public sealed class OpenApiGuardTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task Swagger_WhenProtected_NeedsTheOpsCheck_WhenOff_IsGone()
    {
        await using (var gateway = Gateway(new() { ["Ops:Swagger"] = "Protected" }))
        {
            using var client = gateway.CreateClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/openapi/v1.json")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/swagger/index.html")).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
            request.Headers.Add("X-Api-Key", OpsKey);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }
        await using (var gateway = Gateway(new() { ["Ops:Swagger"] = "Off" }))
        {
            using var client = gateway.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v1.json")).StatusCode);
        }
    }
}
