using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>The per-client-IP limiter: past its permits a client gets a 429 problem with Retry-After.</summary>
public sealed class ClientIpLimiterTests : OwnEmulatorGatewayTests
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
}
