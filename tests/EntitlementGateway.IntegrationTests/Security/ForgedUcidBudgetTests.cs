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
}
