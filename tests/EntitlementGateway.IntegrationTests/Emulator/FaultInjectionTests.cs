using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

public sealed class FaultInjectionTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>, IAsyncLifetime
{
    private readonly EmulatorClient _client = fixture.Client;

    // Faults are server-wide: every test starts and ends with none (tests of one class run one at a time).
    public async Task InitializeAsync() => (await _client.Http.DeleteAsync("emulator/faults")).Dispose();

    public Task DisposeAsync() => InitializeAsync();

    private async Task PutFaultsAsync(JsonObject faults)
    {
        using var response = await _client.Http.PutAsJsonAsync("emulator/faults", faults);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(string Token, string Ucid, string UserId)> NewUserAsync()
    {
        var userId = EmulatorClient.NewUserId();
        await _client.SeedAsync(userId, Items.Item("a", "P1"));
        return (await _client.GetTokenAsync(), await _client.MintUcidAsync(userId), userId);
    }

    [Fact]
    public async Task Query_WithFailNext2Status503_FailsExactlyTheNextTwoCallsWithRetryAfter()
    {
        var (token, ucid, _) = await NewUserAsync();
        var injectedBefore = fixture.Server.State.FaultsInjected;
        await PutFaultsAsync(new JsonObject { ["failNext"] = 2, ["failureStatus"] = 503, ["retryAfterSeconds"] = 7, ["mode"] = "Status" });

        using var first = await _client.QueryAsync(token, ucid);
        using var second = await _client.QueryAsync(token, ucid);
        using var third = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), first.Headers.RetryAfter!.Delta);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(injectedBefore + 2, fixture.Server.State.FaultsInjected);
        Assert.Equal(0, (await _client.GetJsonAsync("emulator/faults"))["failNext"]!.GetValue<int>());
    }

    [Fact]
    public async Task Query_WithFailNextDrop_AbortsTheConnectionThenServesNormally()
    {
        var (token, ucid, _) = await NewUserAsync();
        (await _client.QueryAsync(token, ucid)).Dispose(); // warm, pooled connection: the drop must still surface
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "Drop" });

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.QueryAsync(token, ucid));
        using var after = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Query_WithHangAndNoLatency_HangsUntilTheClientGivesUp()
    {
        var (token, ucid, _) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "Hang" });
        using var impatient = new EmulatorClient(fixture.Server);
        impatient.Http.Timeout = TimeSpan.FromMilliseconds(500);

        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.QueryAsync(token, ucid));
        using var after = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Query_WithHangAndLatency_AnswersFailureStatusAfterTheLatency()
    {
        var (token, ucid, _) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["mode"] = "Hang", ["latencyMs"] = 300, ["failureStatus"] = 504 });
        var watch = Stopwatch.StartNew();

        using var response = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(watch.ElapsedMilliseconds >= 290, $"answered after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Query_WithLatency_IsDelayedButSucceeds()
    {
        var (token, ucid, _) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["latencyMs"] = 300 });
        var watch = Stopwatch.StartNew();

        using var response = await _client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(watch.ElapsedMilliseconds >= 290, $"answered after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Query_WithFailureRate1_FailsEveryCallWith429AndRetryAfter()
    {
        var (token, ucid, userId) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failureRate"] = 1.0, ["failureStatus"] = 429, ["retryAfterSeconds"] = 3 });

        for (var i = 0; i < 3; i++)
        {
            using var response = await _client.QueryAsync(token, ucid);
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter!.Delta);
        }
        // Injected failures happen in front of the service: they are not per-user calls.
        Assert.Empty(fixture.Server.State.GetAdmittedCalls(userId));
    }

    [Fact]
    public async Task Renew_WithFailNext500_IsFailedToo()
    {
        var (token, ucid, _) = await NewUserAsync();
        await PutFaultsAsync(new JsonObject { ["failNext"] = 1, ["failureStatus"] = 500 });

        using var response = await _client.RenewAsync(token, ucid);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Theory]
    [InlineData("{\"failureRate\": 1.5}")]
    [InlineData("{\"failNext\": -1}")]
    [InlineData("{\"failureStatus\": 200}")]
    [InlineData("{\"renewedLifetimeSeconds\": 315360001}")]
    [InlineData("{\"renewedLifetimeSeconds\": -9223372036854775808}")]
    [InlineData("{\"mode\": \"Explode\"}")]
    public async Task Faults_PutWithInvalidSettings_Returns400(string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");

        using var response = await _client.Http.PutAsync("emulator/faults", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Faults_Get_ReturnsWhatWasPut()
    {
        await PutFaultsAsync(new JsonObject { ["failNext"] = 4, ["mode"] = "Drop", ["latencyMs"] = 5 });

        var faults = await _client.GetJsonAsync("emulator/faults");

        Assert.Equal(4, faults["failNext"]!.GetValue<int>());
        Assert.Equal("Drop", faults["mode"]!.GetValue<string>());
        Assert.Equal(5, faults["latencyMs"]!.GetValue<int>());
        Assert.Equal(FaultMode.Drop, fixture.Server.State.Faults.Mode);
    }
}
