using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Api;

/// <summary>
/// <c>/ops</c> has no per-IP limit (operators' scripts must not meet it), so a refused ops request must cost no more log
/// than any other request: its one request line, without the authentication handler's own two Information events.
/// A gateway process, so the shipped Serilog levels are what decide.
/// </summary>
public sealed class OpsLogVolumeTests
{
    private const string OpsKey = "ops-key-0123456789-0123456789-0123456789";

    [Fact]
    public async Task A_wrong_ops_key_writes_its_request_line_only()
    {
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Ops__ApiKey"] = OpsKey,
        });
        using var http = new HttpClient { BaseAddress = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)) };

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/config");
            request.Headers.Add("X-Api-Key", "wrong-key-0123456789-0123456789-0123456789");
            using var refused = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        // A later request's line: the log is written in order, so once it is there the refusals' lines are too.
        using (await http.GetAsync("/v1/marker-after-the-refusals")) { }
        Assert.NotNull(await gateway.WaitForLineAsync(l => l.Contains("/v1/marker-after-the-refusals", StringComparison.Ordinal)));

        var output = gateway.Output;
        Assert.Equal(3, output.Split('\n').Count(l => l.Contains("/ops/config", StringComparison.Ordinal) && l.Contains(" 401 ", StringComparison.Ordinal)));
        Assert.DoesNotContain("was not authenticated", output, StringComparison.Ordinal);
        Assert.DoesNotContain("was challenged", output, StringComparison.Ordinal);
    }
}
