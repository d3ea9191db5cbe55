using System.Net;
using EntitlementGateway.Hosting;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Hosting;

/// <summary>Settings the README promises: Production's refusals and defaults, /ops off unless enabled, the UCID size limit (forwarded headers: ClientLimitTests).</summary>
public sealed class ConfigurationPromiseTests(LiveGatewayFixture fixture) : IClassFixture<LiveGatewayFixture>
{
    private const string OpsKey = "ops-key-0123456789-0123456789-0123456789";

    /// <summary>Live settings a Production deployment could have: no development-only thumbprint.</summary>
    private Dictionary<string, string?> ProductionSettings(Dictionary<string, string?>? extra = null)
    {
        var settings = GatewayApplication.LiveSettings(fixture.Emulator);
        settings.Remove("Store:TrustedCertificateThumbprint");
        settings["PlayerAuth:TrustGameClient"] = "true"; // Production asks for a binding decision; these tests are about other settings
        foreach (var (key, value) in extra ?? []) settings[key] = value;
        return settings;
    }

    [Fact]
    public async Task NativeHeapTrim_RunsEvery30SecondsByDefault()
    {
        await using var gateway = GatewayApplication.Live(fixture.Emulator);
        using var client = gateway.CreateClient();

        Assert.Single(gateway.Services.GetServices<IHostedService>().OfType<NativeHeapTrimmer>());
        Assert.Equal(30, gateway.Services.GetRequiredService<IOptions<HostingOptions>>().Value.NativeHeapTrimSeconds);
    }

    [Fact]
    public async Task NativeHeapTrim_ABadIntervalStopsTheStart_NamingTheKey()
    {
        var environment = GatewayApplication.LiveSettings(fixture.Emulator)
            .ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        environment["Hosting__NativeHeapTrimSeconds"] = "-1";
        await using var gateway = GatewayProcess.Start(environment);

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Hosting:NativeHeapTrimSeconds must be between 0 and 3600; it is -1.", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASerilogSinkNotInTheBuild_StopsTheStart_NamingTheKey()
    {
        var environment = GatewayApplication.LiveSettings(fixture.Emulator)
            .ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        environment["Serilog__WriteTo__0__Name"] = "File";
        environment["Serilog__WriteTo__0__Args__path"] = "/tmp/never-written.log";
        environment["Serilog__MinimumLevel__Default"] = "Loud";
        await using var gateway = GatewayProcess.Start(environment);

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Serilog:WriteTo:0:Name names a sink this build does not hold", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("Serilog:MinimumLevel:Default is not a level", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_RefusesToStart_WithStoreTrustedCertificateThumbprint()
    {
        var environment = ProductionSettings(new() { ["Store:TrustedCertificateThumbprint"] = fixture.Emulator.Certificate.Thumbprint })
            .ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        await using var gateway = GatewayProcess.Start(environment);

        Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Store:TrustedCertificateThumbprint is for development and tests; it is refused in Production.", gateway.Output);
    }

    [Fact]
    public async Task Production_WithoutThumbprint_Starts()
    {
        // The other side of the refusal above: the same settings without the thumbprint are a valid Production set.
        await using var gateway = new GatewayApplication(ProductionSettings(), environment: "Production");
        using var client = gateway.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Production_SwaggerDefault_IsProtectedWhenOpsAuthenticationIsSet()
    {
        await using var gateway = new GatewayApplication(ProductionSettings(new() { ["Ops:ApiKey"] = OpsKey }), environment: "Production");
        using var client = gateway.CreateClient();

        using var anonymous = await client.GetAsync("/openapi/v1.json");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Add("X-Api-Key", OpsKey);
        using var operator_ = await client.SendAsync(request);
        // The document is kept after its first generation: still behind the check.
        using var anonymousAfter = await client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operator_.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousAfter.StatusCode);
    }

    [Fact]
    public async Task Production_SwaggerDefault_IsOffWithoutOpsAuthentication()
    {
        await using var gateway = new GatewayApplication(ProductionSettings(), environment: "Production");
        using var client = gateway.CreateClient();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/swagger/index.html")).StatusCode);
    }

    [Theory]
    // Unset, Ops:Enabled follows the credential: setting the key (as the deployment's Secret does) serves the console.
    [InlineData(OpsKey, null, HttpStatusCode.OK)]
    [InlineData(OpsKey, "true", HttpStatusCode.OK)]
    [InlineData(OpsKey, "false", HttpStatusCode.NotFound)]
    [InlineData(null, null, HttpStatusCode.NotFound)]
    public async Task Ops_IsMappedWhenItsKeyIsSet_UnlessDisabled(string? key, string? enabled, HttpStatusCode expected)
    {
        await using var gateway = GatewayApplication.Live(fixture.Emulator, new Dictionary<string, string?> { ["Ops:ApiKey"] = key, ["Ops:Enabled"] = enabled });
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/budgets/user-someone");
        request.Headers.Add("X-Api-Key", OpsKey);
        using var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Query_UcidOver8KiB_Is400WithoutAStoreCall_AndOneOfExactly8KiBIsSentToTheStore()
    {
        var recorder = new StoreRequestRecorder();
        await using var gateway = recorder.Attach(fixture.Gateway);
        using var client = gateway.CreateClient();
        var minted = await fixture.Store.MintUcidAsync("player-" + Guid.NewGuid().ToString("N")[..10]);
        // A longer signature part keeps the claims readable; only the Store can tell the signature is now wrong.
        string Padded(int length) => minted + new string('A', length - minted.Length);

        using var over = await QueryAsync(client, Padded(8 * 1024 + 1));
        var overProblem = await AssertProblemAsync(over, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        Assert.Contains("8192", overProblem["detail"]!.GetValue<string>());
        Assert.Empty(recorder.Requests);

        using var exact = await QueryAsync(client, Padded(8 * 1024));
        await AssertProblemAsync(exact, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        Assert.Single(recorder.Requests);
    }
}
