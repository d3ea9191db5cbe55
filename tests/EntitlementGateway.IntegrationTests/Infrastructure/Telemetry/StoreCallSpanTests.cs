using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Infrastructure.Telemetry;

/// <summary>A client span is a Store call made: a unit the budget refused is no call, and is told on the request's span.</summary>
public sealed class StoreCallSpanTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task ABudgetRefusal_MakesNoStoreSpan_AndIsTaggedOnTheRequestsSpan()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is GatewayActivities.SourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var gateway = Gateway(new() { ["Budget:Limit"] = "1", ["Cache:Enabled"] = "false" });
        using var client = gateway.CreateClient();
        var ucid = await World.MintUcidAsync(GatewayQueries.NewUser());

        var allowedTrace = ActivityTraceId.CreateRandom();
        var deniedTrace = ActivityTraceId.CreateRandom();
        using (var first = await QueryInTraceAsync(client, ucid, allowedTrace)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var second = await QueryInTraceAsync(client, ucid, deniedTrace))
            await GatewayQueries.AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "budget_exhausted");

        var allowed = stopped.Where(a => a.TraceId == allowedTrace).ToList();
        var call = Assert.Single(allowed, a => a.Source.Name == GatewayActivities.SourceName);
        Assert.Equal("store b2bLicensePreview", call.DisplayName);
        Assert.Equal("allowed", call.GetTagItem("budget.decision"));
        Assert.Equal(200, call.GetTagItem("http.response.status_code"));

        var denied = stopped.Where(a => a.TraceId == deniedTrace).ToList();
        Assert.DoesNotContain(denied, a => a.Source.Name == GatewayActivities.SourceName);
        var request = Assert.Single(denied, a => a.Kind == ActivityKind.Server);
        Assert.Equal("denied", request.GetTagItem("budget.decision"));
    }

    private static Task<HttpResponseMessage> QueryInTraceAsync(HttpClient client, string ucid, ActivityTraceId trace)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/entitlements/query")
        {
            Content = JsonContent(new { userCollectionsId = ucid, products = new[] { new { productId = "9N30KZZF4BR9" } } }),
        };
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };
        return client.SendAsync(request);
    }

    private static StringContent JsonContent(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
