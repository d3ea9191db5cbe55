using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>Forged UCIDs naming a victim cannot spend the victim's budget.</summary>
public sealed class ForgedUcidBudgetTests : OwnEmulatorGatewayTests
{
    [Fact]
    public async Task ForgedUcids_ForAVictimsUserId_DoNotReduceTheVictimsBudget()
    {
        var recorder = new StoreRequestRecorder();
        await using var unrecorded = Gateway();
        await using var gateway = recorder.Attach(unrecorded);
        using var client = gateway.CreateClient();
        // Right claims, wrong signature: the gateway cannot tell, the Store can.
        var forged = ForgedUcid.For("victim", Emulator.Options.ClientId);

        for (var i = 0; i < 5; i++)
        {
            using var response = await QueryAsync(client, forged);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        }

        // Each forged query did reach the Store (only it can refuse the signature), taking a unit that was then refunded.
        Assert.Equal(5, recorder.Requests.Count);
        Assert.All(recorder.Requests, r => Assert.Equal(forged, r.Body["beneficiaries"]![0]!["identityValue"]!.GetValue<string>()));
        var budget = await BudgetAsync(client, "user-victim");
        Assert.Equal(0, budget["used"]!.GetValue<int>());
        Assert.Equal(100, budget["remaining"]!.GetValue<int>());
    }

    [Fact]
    public async Task ABurstOfForgedUcidsForAVictim_HoldsFewOfTheVictimsUnits_SoTheVictimsOwnQueriesGoThrough()
    {
        await using var gateway = Gateway(new() { ["ClientLimits:PermitLimit"] = "0" });
        using var client = gateway.CreateClient();
        const string victim = "burst-victim";
        await World.SeedAsync(victim, StoreWorld.Item("9N30KZZF4BR9"));
        var ucid = await World.MintUcidAsync(victim);
        // The Store has answered for the victim's UCID on this replica: its calls are proven and never wait at the gate.
        using (var first = await QueryAsync(client, ucid)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await World.SetFaultsAsync(new { latencyMs = 1500 });

        // Right claims, wrong signatures: only the Store can tell, after its latency. 120 distinct ones at once (identical
        // queries would share one Store call), more than the budget.
        var burst = Enumerable.Range(0, 120)
            .Select(i => QueryAsync(client, ForgedUcid.For(victim, Emulator.Options.ClientId, TimeSpan.FromMinutes(10 + i)))).ToList();
        await Task.Delay(500);
        var held = (await BudgetAsync(client, "user-" + victim))["used"]!.GetValue<int>() - 1;

        using var own = await QueryAsync(client, ucid, fresh: true);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.InRange(held, 1, EntitlementGateway.Store.Resilience.UnprovenCallGate.DefaultPerKey);
        foreach (var answer in burst)
        {
            using var response = await answer;
            Assert.Contains(response.StatusCode, (HttpStatusCode[])[HttpStatusCode.BadRequest, HttpStatusCode.GatewayTimeout]);
        }
        // Refused calls give their units back. The ones queued at the gate time out there without a unit; only calls
        // already at the Store when their query's time ran out keep theirs (they may have been counted), a few at most.
        Assert.InRange((await BudgetAsync(client, "user-" + victim))["used"]!.GetValue<int>(), 2, 2 + 2 * EntitlementGateway.Store.Resilience.UnprovenCallGate.DefaultPerKey);
    }
}
