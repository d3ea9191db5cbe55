using System.Net;
using System.Text;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Hosting;

/// <summary>
/// A stop whose timeout runs out while queries wait on a stalled Store: each query still gets an answer (503 with
/// Retry-After) before the server cuts the connections, and the request log says 503, not "client closed" (499).
/// </summary>
public sealed class ShutdownDrainTests
{
    [Fact]
    public async Task QueriesWaitingOnTheStore_WhenTheShutdownTimeRunsOut_Answer503_NotAReset()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        var environment = GatewayApplication.LiveSettings(emulator).ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        environment["Hosting__ShutdownTimeoutSeconds"] = "4";
        environment["Resilience__AttemptTimeoutSeconds"] = "20";
        environment["Resilience__TotalTimeoutSeconds"] = "20";
        environment["Cache__Enabled"] = "false";
        await using var gateway = GatewayProcess.Start(environment);
        Uri address;
        try { address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)); }
        catch (InvalidOperationException) { throw new InvalidOperationException(gateway.Output); }
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        var ucids = new List<string>();
        for (var i = 0; i < 3; i++) ucids.Add(await store.MintUcidAsync($"drain-{i}"));
        // Warm: the service token and the connection to the Store are there before the Store stalls.
        Assert.Equal(HttpStatusCode.OK, (await Query(http, ucids[0])).StatusCode);
        await store.SetFaultsAsync(new { latencyMs = 30_000 });

        var queries = ucids.Select(u => Query(http, u)).ToList();
        await Task.Delay(1_000); // the three are waiting on the Store
        var stopped = System.Diagnostics.Stopwatch.StartNew();
        gateway.Terminate();

        foreach (var query in queries)
        {
            using var response = await query; // a reset would throw here
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("\"code\":\"upstream_unavailable\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        }
        // Answered after most of the 4 s (the deadline keeps 0.8 s to answer), not at once.
        Assert.InRange(stopped.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(4));
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("shutting down", gateway.Output, StringComparison.Ordinal);
        // No request ended as a client-closed 499 (matched as the request line's status: a duration can read 499.0 ms).
        Assert.DoesNotContain("responded 499", gateway.Output, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> Query(HttpClient http, string ucid) =>
        http.PostAsync("/v1/entitlements/query", new StringContent(
            $$"""{"userCollectionsId":"{{ucid}}","products":[{"productId":"9NBLGGH4R315"}]}""", Encoding.UTF8, "application/json"));
}
