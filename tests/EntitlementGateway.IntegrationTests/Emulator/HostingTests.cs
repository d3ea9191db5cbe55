using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>How the gateway embeds the emulator: shared state across hosts, options, reset.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task TwoServers_SharingOneState_ServeTheSameUsersTokensAndStats()
    {
        using var state = new EmulatorState(new EmulatorOptions { RateLimit = 2 });
        await using var a = await EmulatorServer.StartAsync(state);
        await using var b = await EmulatorServer.StartAsync(state);
        using var clientA = new EmulatorClient(a);
        using var clientB = new EmulatorClient(b);
        var userId = EmulatorClient.NewUserId();
        await clientA.SeedAsync(userId, Items.Item("a", "P1"));
        var token = await clientA.GetTokenAsync();
        var ucid = await clientA.MintUcidAsync(userId);

        using var first = await clientB.QueryAsync(token, ucid);
        using var second = await clientA.QueryAsync(token, ucid);
        using var third = await clientB.QueryAsync(token, ucid);

        Assert.NotEqual(a.HttpsBaseAddress, b.HttpsBaseAddress);
        Assert.Equal(a.Certificate.Thumbprint, b.Certificate.Thumbprint);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal(3, (await clientA.GetJsonAsync("emulator/stats"))["queries"]![userId]!.GetValue<long>());
    }

    [Fact]
    public async Task TlsCertificate_IsAnEcdsaP256LoopbackServerCertificate_ThatThePinnedClientAccepts()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var client = new EmulatorClient(server);

        // A token over HTTPS through the client that trusts exactly server.Certificate: the listener serves that one.
        Assert.NotEmpty(await client.GetTokenAsync());
        using var key = server.Certificate.GetECDsaPrivateKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.Null(server.Certificate.GetRSAPublicKey());
        var san = server.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["localhost"], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], san.EnumerateIPAddresses());
        var usage = server.Certificate.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, usage.KeyUsages);
    }

    [Fact]
    public async Task MapStoreEmulator_InAnotherHost_ServesUnderEmulatorWithConfiguredOptions()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddStoreEmulator(o => o.ClientSecret = "host-secret");
        await using var app = builder.Build();
        app.MapStoreEmulator();
        await app.StartAsync();
        using var http = app.GetTestClient();

        using var wrong = await http.PostAsync("/emulator/oauth2/v2.0/token", Form("emulator-secret"));
        using var right = await http.PostAsync("/emulator/oauth2/v2.0/token", Form("host-secret"));
        var stats = await http.GetFromJsonAsync<JsonObject>("/emulator/stats");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(1, stats!["tokensIssued"]!.GetValue<long>());
        Assert.Same(app.Services.GetRequiredService<EmulatorState>(), app.Services.GetRequiredService<EmulatorState>());
    }

    [Fact]
    public async Task MapStoreEmulator_InAnotherHost_HoldsStoreRequestsToTheirFraming()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddStoreEmulator();
        await using var app = builder.Build();
        app.MapStoreEmulator();
        await app.StartAsync();
        using var http = app.GetTestClient();

        using var textPlain = await http.PostAsync("/" + EmulatorClient.QueryPath,
            new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));
        using var json = await http.PostAsync("/" + EmulatorClient.QueryPath, EmulatorClient.Json(new JsonObject()));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, textPlain.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, json.StatusCode); // past the framing checks, refused for its missing token
        Assert.Equal(1, app.Services.GetRequiredService<EmulatorState>().ProtocolErrors);
        Assert.Equal(2, app.Services.GetRequiredService<EmulatorState>().GetRequests().Count);
    }

    [Fact]
    public async Task Reset_ClearsUsersStatsCallLogsAndFaults()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { RateLimit = 1 });
        using var client = new EmulatorClient(server);
        var userId = EmulatorClient.NewUserId();
        await client.SeedAsync(userId, Items.Item("a", "P1"));
        var token = await client.GetTokenAsync();
        var ucid = await client.MintUcidAsync(userId);
        (await client.QueryAsync(token, ucid)).Dispose();
        (await client.QueryAsync(token, ucid)).Dispose(); // 429
        (await client.Http.PutAsJsonAsync("emulator/faults", new JsonObject { ["latencyMs"] = 1, ["failNext"] = 3 })).Dispose();

        (await client.Http.PostAsync("emulator/reset", null)).Dispose();

        var stats = await client.GetJsonAsync("emulator/stats");
        Assert.Empty(stats["queries"]!.AsObject());
        Assert.Equal(0, stats["rateLimited"]!.GetValue<long>());
        Assert.Equal(0, stats["tokensIssued"]!.GetValue<long>());
        Assert.Empty((await client.GetJsonAsync($"emulator/users/{userId}/calls"))["calls"]!.AsArray());
        Assert.Empty((await client.Http.GetFromJsonAsync<JsonArray>($"emulator/users/{userId}/entitlements"))!);
        Assert.Equal(0, (await client.GetJsonAsync("emulator/faults"))["failNext"]!.GetValue<int>());
        Assert.Empty(server.State.GetRequests());
        // The rate-limit log is gone too: the user may call again at once (tokens and keys stay valid).
        using var again = await client.QueryAsync(token, ucid);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Options_Faults_ApplyFromStartUp()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions
        {
            Faults = new FaultSettings { FailNext = 1, FailureStatus = 500 },
        });
        using var client = new EmulatorClient(server);
        var token = await client.GetTokenAsync();
        var ucid = await client.MintUcidAsync(EmulatorClient.NewUserId());

        using var first = await client.QueryAsync(token, ucid);
        using var second = await client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Fact]
    public async Task Server_ExposesAuthorityAndCollectionsBaseUrlOnItsHttpsAddress()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions());

        Assert.Equal("https", server.HttpsBaseAddress.Scheme);
        Assert.Equal("http", server.HttpBaseAddress.Scheme);
        Assert.Equal(server.HttpsBaseAddress + "emulator", server.Authority);
        Assert.Equal(server.HttpsBaseAddress + "emulator/store", server.CollectionsBaseUrl.ToString());
        using var http = new HttpClient { BaseAddress = server.HttpBaseAddress };
        using var response = await http.GetAsync("emulator/unknown/path");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("/emulator/unknown/path", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_WhileACallHangs_StopsPromptly()
    {
        var server = await EmulatorServer.StartAsync(new EmulatorOptions
        {
            Faults = new FaultSettings { FailNext = 1, Mode = FaultMode.Hang },
        });
        using var client = new EmulatorClient(server);
        var token = await client.GetTokenAsync();
        var hanging = client.QueryAsync(token, await client.MintUcidAsync(EmulatorClient.NewUserId()));
        while (server.State.FaultsInjected == 0) await Task.Delay(10);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        await server.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {watch.Elapsed}");
        await Assert.ThrowsAnyAsync<Exception>(() => hanging);
    }

    private static FormUrlEncodedContent Form(string secret) => new(new Dictionary<string, string>
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = new EmulatorOptions().ClientId,
        ["client_secret"] = secret,
        ["scope"] = "https://onestore.microsoft.com/.default",
    });
}
