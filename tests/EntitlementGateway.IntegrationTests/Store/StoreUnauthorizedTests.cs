using System.Net;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

public sealed class UnauthorizedFixture : ConfiguredGatewayFixture
{
    public const int SuspectAfter = 3;

    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        // Every cached token counts as old: a 401 is first answered with a new token, as an hour-old one would be.
        ["Store:FreshTokenSeconds"] = "0",
        ["Store:SuspectCredentialsAfter"] = SuspectAfter.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Store:SuspectCredentialsWindowSeconds"] = "60",
        ["Resilience:MaxRetries"] = "0",
    };
}

/// <summary>
/// The Store answers 401 both for a refused UCID and for a refused service token. The gateway must tell them apart:
/// a new token first, the UCID's fault only with a fresh one, and its own credentials when many players are refused.
/// </summary>
[Collection(nameof(UnauthorizedFixture))]
public sealed class StoreUnauthorizedTests(UnauthorizedFixture fixture) : IClassFixture<UnauthorizedFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => fixture.Store.SetFaultsAsync(new { });

    public Task DisposeAsync() => fixture.Store.SetFaultsAsync(new { });

    private async Task<(string User, string Ucid)> PlayerAsync()
    {
        var user = NewUser();
        var ucid = await fixture.Store.MintUcidAsync(user);
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9"));
        return (user, ucid);
    }

    [Fact]
    public async Task Query_WhenTheStoreRevokedOurCachedToken_GetsANewOneAndAnswers200_WithoutBlamingTheUcid()
    {
        var (user, ucid) = await PlayerAsync();
        using (var first = await QueryAsync(fixture.Client, ucid)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await fixture.Store.RevokeTokensAsync();
        var tokens = fixture.Emulator.State.TokensIssued;

        using var response = await QueryAsync(fixture.Client, ucid, fresh: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("upstream", await ServedFromAsync(response));
        Assert.Equal(tokens + 1, fixture.Emulator.State.TokensIssued);
        // Two Store queries were admitted for the player (the first query and the retry); the refused attempt's unit went back.
        Assert.Equal(2, await fixture.Store.QueriesAsync(user));
        Assert.Equal(2, await UnitsUsedAsync(fixture.Gateway, user));
    }

    [Fact]
    public async Task Query_WithAForgedUcid_IsRefusedAfterOneTokenRefresh_AndSpendsNothing()
    {
        // A UCID with the right claims signed by another Store: only the Store can tell.
        await using var elsewhere = await EmulatorServer.StartAsync(new EmulatorOptions { ClientId = fixture.Emulator.Options.ClientId });
        using var otherStore = new StoreWorld(elsewhere);
        var victim = NewUser();
        var forged = await otherStore.MintUcidAsync(victim);
        using (var warm = await QueryAsync(fixture.Client, (await PlayerAsync()).Ucid)) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        var tokens = fixture.Emulator.State.TokensIssued;
        var requests = (await fixture.Store.RequestsAsync()).Count;

        using var response = await QueryAsync(fixture.Client, forged);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        Assert.Equal(2, (await fixture.Store.RequestsAsync()).Count - requests); // the call, and once more with a new token
        Assert.Equal(tokens + 1, fixture.Emulator.State.TokensIssued);
        Assert.Equal(0, await UnitsUsedAsync(fixture.Gateway, victim));
    }

    [Fact]
    public async Task Query_ManyForgedUcidsOfDifferentPlayers_AreEachTheUcidsFault_NeverTheGatewaysCredentials()
    {
        // Anyone can send UCIDs with made-up player ids and a broken signature: once the Store has accepted the gateway's
        // calls, such refusals must not make it doubt its own credentials (which would answer every refusal as an outage).
        using (var warm = await QueryAsync(fixture.Client, (await PlayerAsync()).Ucid, fresh: true)) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);

        for (var i = 0; i < UnauthorizedFixture.SuspectAfter * 3; i++)
        {
            using var refused = await QueryAsync(fixture.Client, ForgedUcid.For(NewUser(), fixture.Emulator.Options.ClientId));
            await AssertProblemAsync(refused, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        }

        var ready = JsonNode.Parse(await fixture.Client.GetStringAsync("/health/ready"))!;
        Assert.Equal("Healthy", ready["checks"]!["store-credentials"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Query_WhenTheStoreRefusesOurCredentialsForEveryone_SuspectsThem_ServesStale_KeepsTheCache_AndReportsDegraded()
    {
        var players = new List<(string User, string Ucid)>();
        for (var i = 0; i < UnauthorizedFixture.SuspectAfter + 2; i++)
        {
            var player = await PlayerAsync();
            using var cached = await QueryAsync(fixture.Client, player.Ucid);
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            players.Add(player);
        }
        await fixture.Store.SetFaultsAsync(new { rejectServiceTokens = true });

        // Below the threshold a refusal with a fresh token is the UCID's fault.
        for (var i = 0; i < UnauthorizedFixture.SuspectAfter - 1; i++)
        {
            using var refused = await QueryAsync(fixture.Client, players[i].Ucid, fresh: true);
            await AssertProblemAsync(refused, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        }
        // The third different player refused: the gateway's own credentials are suspect; cached answers stand in.
        for (var i = UnauthorizedFixture.SuspectAfter - 1; i < players.Count; i++)
        {
            using var stale = await QueryAsync(fixture.Client, players[i].Ucid, fresh: true);
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal("stale", await ServedFromAsync(stale));
            Assert.Equal("upstream_unavailable", stale.Headers.GetValues("X-Served-Stale-Because").Single());
        }
        var ready = JsonNode.Parse(await fixture.Client.GetStringAsync("/health/ready"))!;
        Assert.Equal("Degraded", ready["checks"]!["store-credentials"]!["status"]!.GetValue<string>());
        Assert.Contains(fixture.Gateway.Logs, l => l.Message.Contains("credentials are suspect", StringComparison.Ordinal));

        // Cached answers were kept: once the Store accepts us again, the last player's cache still answers without a Store call.
        await fixture.Store.SetFaultsAsync(new { });
        var last = players[^1];
        var calls = await fixture.Store.QueriesAsync(last.User);
        using (var hit = await QueryAsync(fixture.Client, last.Ucid)) Assert.Equal("cache", await ServedFromAsync(hit));
        Assert.Equal(calls, await fixture.Store.QueriesAsync(last.User));

        using var healthy = await QueryAsync(fixture.Client, last.Ucid, fresh: true);
        Assert.Equal("upstream", await ServedFromAsync(healthy));
        ready = JsonNode.Parse(await fixture.Client.GetStringAsync("/health/ready"))!;
        Assert.Equal("Healthy", ready["checks"]!["store-credentials"]!["status"]!.GetValue<string>());
    }
}

[CollectionDefinition(nameof(UnauthorizedFixture))]
public sealed class UnauthorizedCollection;
