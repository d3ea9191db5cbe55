using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>Request limits: the per-client-IP limiter and the header size cap.</summary>
public sealed class RequestLimitTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task ClientIpLimiter_Answers429WithRetryAfter()
    {
        await using var gateway = Gateway(new() { ["ClientLimits:PermitLimit"] = "3", ["ClientLimits:WindowSeconds"] = "60" });
        using var client = gateway.CreateClient();

        for (var i = 0; i < 3; i++) (await client.GetAsync("/v1/collections-ticket")).EnsureSuccessStatusCode();
        using var limited = await client.GetAsync("/v1/collections-ticket");

        await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "too_many_requests");
        Assert.InRange(int.Parse(limited.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

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
