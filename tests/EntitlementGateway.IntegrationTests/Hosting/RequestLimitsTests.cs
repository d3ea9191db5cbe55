using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Hosting;

/// <summary>The request limits the gateway answers itself: headers over 16 KiB get a 431 problem.</summary>
public sealed class RequestLimitsTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task HeadersOver16KiB_Answer431Problem()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/collections-ticket");
        request.Headers.Add("X-Padding", new string('a', 17 * 1024));

        using var response = await client.SendAsync(request);

        await AssertProblemAsync(response, (HttpStatusCode)431, "request_headers_too_large");
    }
}
