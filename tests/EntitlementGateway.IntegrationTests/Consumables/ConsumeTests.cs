using System.Net;
using System.Text.Json.Nodes;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Consumables;

/// <summary>Consume through a real gateway and the emulator over HTTPS: exactly once per trackingId, one budget unit per Store attempt.</summary>
public sealed class ConsumeTests : OwnEmulatorGatewayTests
{
    private const string Coins = "9NCOINS00001";

    private async Task<(string User, string Ucid)> PlayerWithCoinsAsync(int coins)
    {
        var user = NewUser();
        await World.SeedAsync(user, StoreWorld.Consumable(Coins, coins, "order-1"));
        return (user, await World.MintUcidAsync(user));
    }

    /// <summary>The player's balance as the emulator holds it now.</summary>
    private Task<int> BalanceAsync(string user) => Task.FromResult(
        Emulator.State.GetEntitlements(user).Where(i => i["productId"]!.GetValue<string>() == Coins).Sum(i => i["quantity"]!.GetValue<int>()));

    [Fact]
    public async Task Consume_AnswersNewBalanceAndOrders_AndSpendsOneBudgetUnit()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();

        using var response = await ConsumeAsync(client, ucid, Coins, 3, trackingId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal(Coins, body["productId"]!.GetValue<string>());
        Assert.Equal(trackingId.ToString("D"), body["trackingId"]!.GetValue<string>());
        Assert.Equal(7, body["newQuantity"]!.GetValue<int>());
        var order = Assert.Single(body["orderTransactions"]!.AsArray())!;
        Assert.Equal("order-1", order["orderId"]!.GetValue<string>());
        Assert.Equal(3, order["quantityConsumed"]!.GetValue<int>());
        Assert.Equal(7, await BalanceAsync(user));
        Assert.Equal(1, await UnitsUsedAsync(gateway, user));
        Assert.StartsWith("\"upstream\";r=", response.Headers.GetValues("RateLimit").Single());
        var sent = (await World.RequestsAsync()).Last(r => r!["path"]!.GetValue<string>().EndsWith("/consume", StringComparison.Ordinal))!;
        var storeBody = JsonNode.Parse(sent["body"]!.GetValue<string>())!;
        Assert.True(storeBody["includeOrderIds"]!.GetValue<bool>());
        Assert.Equal(3, storeBody["removeQuantity"]!.GetValue<int>());
        Assert.Equal("b2b", storeBody["beneficiary"]!["identityType"]!.GetValue<string>());
    }

    [Fact]
    public async Task Consume_ReplayedWithTheSameTrackingId_AnswersTheRecordedOutcome_WithoutStoreCallOrBudgetUnit()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        using var first = await ConsumeAsync(client, ucid, Coins, 2, trackingId);
        var firstBody = (await BodyAsync(first)).ToJsonString();

        using var replay = await ConsumeAsync(client, ucid, Coins, 2, trackingId);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(firstBody, (await BodyAsync(replay)).ToJsonString());
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await World.ConsumesAsync(user));
        Assert.Equal(1, await UnitsUsedAsync(gateway, user));
        Assert.Equal(8, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_TrackingIdReusedWithAnotherQuantityOrPlayer_Returns409_WithoutStoreCall()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var (other, otherUcid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        using var first = await ConsumeAsync(client, ucid, Coins, 2, trackingId);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var otherQuantity = await ConsumeAsync(client, ucid, Coins, 5, trackingId);
        using var otherPlayer = await ConsumeAsync(client, otherUcid, Coins, 2, trackingId);

        await AssertProblemAsync(otherQuantity, HttpStatusCode.Conflict, "tracking_id_reused");
        await AssertProblemAsync(otherPlayer, HttpStatusCode.Conflict, "tracking_id_reused");
        Assert.Equal(1, await World.ConsumesAsync(user));
        Assert.Equal(0, await World.ConsumesAsync(other));
        Assert.Equal(10, await BalanceAsync(other));
    }

    [Fact]
    public async Task Consume_WhoseAnswerWasLost_IsUnknownThenConsumedOnceByTheRetryWithTheSameTrackingId()
    {
        await using var gateway = Gateway(new() { ["Resilience:MaxRetries"] = "0" });
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        await World.SetFaultsAsync(new { failNext = 1, mode = "LoseAnswer" });

        using var lost = await ConsumeAsync(client, ucid, Coins, 4, trackingId);
        var problem = await AssertProblemAsync(lost, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        Assert.Contains("same trackingId", problem["detail"]!.GetValue<string>());
        Assert.Equal(6, await BalanceAsync(user)); // the Store did consume

        using var retry = await ConsumeAsync(client, ucid, Coins, 4, trackingId);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(6, (await BodyAsync(retry))["newQuantity"]!.GetValue<int>());
        Assert.Equal(6, await BalanceAsync(user));
        Assert.Equal(2, await World.ConsumesAsync(user));
        Assert.Equal(2, await UnitsUsedAsync(gateway, user));
    }

    [Fact]
    public async Task Consume_WhoseAnswerWasLost_IsRetriedByThePipelineWithTheSameTrackingId_AndConsumedOnce()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        await World.SetFaultsAsync(new { failNext = 1, mode = "LoseAnswer" });

        using var response = await ConsumeAsync(client, ucid, Coins, 4, Guid.NewGuid());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(6, (await BodyAsync(response))["newQuantity"]!.GetValue<int>());
        Assert.Equal(6, await BalanceAsync(user));
        Assert.Equal(2, await World.ConsumesAsync(user));
        Assert.Equal(2, await UnitsUsedAsync(gateway, user));
    }

    [Fact]
    public async Task Consume_MoreThanTheBalance_Returns409InsufficientQuantity_AndTheRefusalIsRecorded()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(2);
        var trackingId = Guid.NewGuid();

        using var refused = await ConsumeAsync(client, ucid, Coins, 3, trackingId);
        using var again = await ConsumeAsync(client, ucid, Coins, 3, trackingId);

        await AssertProblemAsync(refused, HttpStatusCode.Conflict, "insufficient_quantity");
        await AssertProblemAsync(again, HttpStatusCode.Conflict, "insufficient_quantity");
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await World.ConsumesAsync(user));
        Assert.Equal(2, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_OfADurable_Returns400ProductNotConsumable()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var user = NewUser();
        await World.SeedAsync(user, StoreWorld.Item("9NDURABLE001"));
        var ucid = await World.MintUcidAsync(user);

        using var response = await ConsumeAsync(client, ucid, "9NDURABLE001", 1, Guid.NewGuid());

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "product_not_consumable");
    }

    [Fact]
    public async Task Consume_DropsThePlayersCachedQueryAnswers()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (_, ucid) = await PlayerWithCoinsAsync(10);
        var products = Products(Coins);
        using var warm = await QueryAsync(client, ucid, products);
        using var cached = await QueryAsync(client, ucid, products);
        Assert.Equal("cache", await ServedFromAsync(cached));

        using var consumed = await ConsumeAsync(client, ucid, Coins, 4, Guid.NewGuid());
        using var after = await QueryAsync(client, ucid, products);

        Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);
        Assert.Equal("upstream", await ServedFromAsync(after));
    }

    [Fact]
    public async Task Consume_WhoseOutcomeIsUnknown_DropsThePlayersCachedQueryAnswersToo()
    {
        // The Store consumed but its answer was lost: a cached answer would go on showing the balance from before.
        await using var gateway = Gateway(new() { ["Resilience:MaxRetries"] = "0" });
        using var client = gateway.CreateClient();
        var (_, ucid) = await PlayerWithCoinsAsync(10);
        var products = Products(Coins);
        using (var warm = await QueryAsync(client, ucid, products)) Assert.Equal(10, (await BodyAsync(warm))["entitlements"]![0]!["quantity"]!.GetValue<int>());
        await World.SetFaultsAsync(new { failNext = 1, mode = "LoseAnswer" });

        using (var lost = await ConsumeAsync(client, ucid, Coins, 4, Guid.NewGuid()))
            await AssertProblemAsync(lost, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        using var after = await QueryAsync(client, ucid, products);

        Assert.Equal("upstream", await ServedFromAsync(after));
        Assert.Equal(6, (await BodyAsync(after))["entitlements"]![0]!["quantity"]!.GetValue<int>());
    }

    [Fact]
    public async Task Consume_TheStoresConflictOnTheGatewaysOwnRetry_IsInProgress_NotRecorded_AndTheSameRequestLaterGetsTheOneConsume()
    {
        // The Store takes 2 s to apply; the gateway's first attempt times out and its retry meets the consume in flight.
        await using var gateway = Gateway(new() { ["Resilience:AttemptTimeoutSeconds"] = "0.5", ["Resilience:BaseDelayMs"] = "50" });
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        await World.SetFaultsAsync(new { consumeApplyMs = 2000 });

        using var inFlight = await ConsumeAsync(client, ucid, Coins, 3, trackingId);

        var problem = await AssertProblemAsync(inFlight, HttpStatusCode.Conflict, "consume_in_progress");
        Assert.Contains("do not use a new trackingId", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(2), inFlight.Headers.RetryAfter?.Delta);
        await WaitForBalanceAsync(user, 7);
        await World.SetFaultsAsync(new { });

        using var again = await ConsumeAsync(client, ucid, Coins, 3, trackingId);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False(again.Headers.Contains("Idempotent-Replayed")); // nothing was recorded: the Store confirmed it
        Assert.Equal(7, (await BodyAsync(again))["newQuantity"]!.GetValue<int>());
        Assert.Equal(7, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_TheStoresConflictOnAResendAfterAnUnknownOutcome_IsInProgress_NotAdviceToTakeANewTrackingId()
    {
        await using var gateway = Gateway(new() { ["Resilience:AttemptTimeoutSeconds"] = "0.5", ["Resilience:MaxRetries"] = "0" });
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        await World.SetFaultsAsync(new { consumeApplyMs = 2000 });
        using (var unknown = await ConsumeAsync(client, ucid, Coins, 3, trackingId))
            Assert.Equal(HttpStatusCode.GatewayTimeout, unknown.StatusCode);

        using var resent = await ConsumeAsync(client, ucid, Coins, 3, trackingId);

        await AssertProblemAsync(resent, HttpStatusCode.Conflict, "consume_in_progress");
        await WaitForBalanceAsync(user, 7);
        await World.SetFaultsAsync(new { });
        using var again = await ConsumeAsync(client, ucid, Coins, 3, trackingId);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(7, (await BodyAsync(again))["newQuantity"]!.GetValue<int>());
        Assert.Equal(7, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_TheStoresConflictOnResends_IsFinalOnceItOutlastsConsumeInProgressConflictSeconds()
    {
        // The Store holds the trackingId for another quantity (sent by a gateway with a ledger of its own), and the first
        // sending's 409 was lost: each resend is "resumed", and its 409 is taken as in flight only for a while.
        await using var first = Gateway();
        await using var second = Gateway(new() { ["Consume:InProgressConflictSeconds"] = "1", ["Resilience:MaxRetries"] = "0" });
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        using (var consumed = await ConsumeAsync(firstClient, ucid, Coins, 2, trackingId)) Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);
        await World.SetFaultsAsync(new { failNext = 1, mode = "LoseAnswer" });
        using (var lost = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId))
            await AssertProblemAsync(lost, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        using (var soon = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId))
            await AssertProblemAsync(soon, HttpStatusCode.Conflict, "consume_in_progress");
        await Task.Delay(1_100);

        using var late = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId);

        var problem = await AssertProblemAsync(late, HttpStatusCode.Conflict, "tracking_id_reused");
        Assert.Contains("read the player's balance", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        using var again = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId);
        await AssertProblemAsync(again, HttpStatusCode.Conflict, "tracking_id_reused");
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single()); // recorded: no more Store calls
        Assert.Equal(4, await World.ConsumesAsync(user));
        Assert.Equal(8, await BalanceAsync(user));
    }

    /// <summary>Waits (at most 10 s) for the emulator to have applied a slow consume.</summary>
    private async Task WaitForBalanceAsync(string user, int balance)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (await BalanceAsync(user) != balance && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.Equal(balance, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_TheStoreRefusesAsATrackingIdConflict_Is409TrackingIdReused_AndRecorded()
    {
        // Two gateways with ledgers of their own (as after a ledger lost its record): only the Store knows the trackingId.
        await using var first = Gateway();
        await using var second = Gateway();
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        using (var consumed = await ConsumeAsync(firstClient, ucid, Coins, 2, trackingId)) Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);

        using var conflict = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId);

        var problem = await AssertProblemAsync(conflict, HttpStatusCode.Conflict, "tracking_id_reused");
        var detail = problem["detail"]!.GetValue<string>();
        Assert.StartsWith("The Store holds this trackingId", detail, StringComparison.Ordinal);
        // The gateway cannot tell another consume from a lost sending of this one: no bare advice to take a new trackingId.
        Assert.Contains("read the player's balance before consuming again with a new trackingId", detail, StringComparison.Ordinal);
        using var again = await ConsumeAsync(secondClient, ucid, Coins, 3, trackingId);
        await AssertProblemAsync(again, HttpStatusCode.Conflict, "tracking_id_reused");
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(2, await World.ConsumesAsync(user)); // the second gateway's retry was answered from its ledger
        Assert.Equal(8, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_WithBadFields_Returns400NamingEach_WithoutStoreCall()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);

        using var response = await client.PostAsync("/v1/consumables/consume", System.Net.Http.Json.JsonContent.Create(
            new { userCollectionsId = ucid, productId = "coins", quantity = 0, trackingId = "not-a-guid" }));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("productId") && errors.ContainsKey("quantity") && errors.ContainsKey("trackingId"));
        Assert.Equal(0, await World.ConsumesAsync(user));
    }

    [Fact]
    public async Task Consume_WithTheXboxAuthorization_ForwardsItWithoutBeneficiary_AndItsReplayWaitsForTheStoreToAcceptItInAQuery()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, _) = await PlayerWithCoinsAsync(10);
        var xbox = await World.MintXboxTokenAsync(user);
        var trackingId = Guid.NewGuid();

        using var consumed = await ConsumeAsync(client, null, Coins, 4, trackingId, xbox);
        using var replay = await ConsumeAsync(client, null, Coins, 4, trackingId, xbox);

        Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);
        Assert.Equal(6, (await BodyAsync(consumed))["newQuantity"]!.GetValue<int>());
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(6, (await BodyAsync(replay))["newQuantity"]!.GetValue<int>());
        Assert.Equal(6, await BalanceAsync(user));
        // The gateway cannot check an X-token itself: the replay's receipt waited for the Store to accept it in a query of
        // the product. The consume itself went to the Store once.
        var requests = await World.RequestsAsync();
        var consume = Assert.Single(requests, r => r!["path"]!.GetValue<string>().EndsWith("/consume", StringComparison.Ordinal))!;
        var query = Assert.Single(requests, r => r!["path"]!.GetValue<string>().EndsWith("/b2bLicensePreview", StringComparison.Ordinal))!;
        Assert.All([consume, query], r =>
        {
            Assert.Equal("XBL3.0", r["authorizationScheme"]!.GetValue<string>());
            Assert.True(r["hasSignature"]!.GetValue<bool>());
        });
        Assert.Null(JsonNode.Parse(consume["body"]!.GetValue<string>())!["beneficiary"]);
        var asked = JsonNode.Parse(query["body"]!.GetValue<string>())!;
        Assert.Null(asked["beneficiaries"]);
        Assert.Equal(Coins, asked["productSkuIds"]![0]!["productId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Consume_ReplayedWithAForgedUcidCarryingThePlayersId_IsRefused_AndNeverSeesTheReceipt()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        using (var first = await ConsumeAsync(client, ucid, Coins, 2, trackingId)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var forged = await ConsumeAsync(client, ForgedUcid.For(user, Emulator.Options.ClientId), Coins, 2, trackingId);

        await AssertProblemAsync(forged, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        var text = await forged.Content.ReadAsStringAsync();
        Assert.DoesNotContain("newQuantity", text, StringComparison.Ordinal);
        Assert.DoesNotContain("order-1", text, StringComparison.Ordinal);
        Assert.False(forged.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(8, await BalanceAsync(user));
        Assert.Equal(1, await World.ConsumesAsync(user));
        // The genuine UCID still gets its receipt from the ledger alone.
        var consumes = await World.ConsumesAsync(user);
        using var replay = await ConsumeAsync(client, ucid, Coins, 2, trackingId);
        Assert.Equal(8, (await BodyAsync(replay))["newQuantity"]!.GetValue<int>());
        Assert.Equal(consumes, await World.ConsumesAsync(user));
    }

    [Fact]
    public async Task Consume_TheStoreRefusedForItsCredential_LeavesTheTrackingIdFree_ForThePlayersOwnRequest()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();

        // Another player's id in a UCID the Store refuses: nothing was consumed, and the answer says nothing is recorded.
        using var refused = await ConsumeAsync(client, ForgedUcid.For("someone-else", Emulator.Options.ClientId), Coins, 2, trackingId);
        var problem = await AssertProblemAsync(refused, HttpStatusCode.BadRequest, "invalid_user_collections_id");
        Assert.Contains("Nothing is recorded for this trackingId", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        using var consumed = await ConsumeAsync(client, ucid, Coins, 2, trackingId);

        Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);
        Assert.Equal(8, (await BodyAsync(consumed))["newQuantity"]!.GetValue<int>());
        Assert.Equal(8, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_WithARefusedXToken_ThenTheSamePlayersUcid_IsConsumedOnce()
    {
        // A game whose X-token the Store refuses falls back to the player's UCID, with the same trackingId.
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var xbox = await World.MintXboxTokenAsync(user);
        var expired = (xbox.Authorization[..(xbox.Authorization.IndexOf(';') + 1)] + "AAAA.BBBB.CCCC", xbox.Signature);
        var trackingId = Guid.NewGuid();

        using var refused = await ConsumeAsync(client, null, Coins, 3, trackingId, expired);
        await AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "xbox_token_refused");
        using var consumed = await ConsumeAsync(client, ucid, Coins, 3, trackingId);

        Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);
        Assert.Equal(7, await BalanceAsync(user));
        Assert.Equal(1, await World.ConsumesAsync(user));
    }

    [Fact]
    public async Task Consume_WhoseOutcomeIsUnknown_KeepsTheTrackingIdBoundToItsRequest()
    {
        // The control for the two above: an answer lost after the Store consumed leaves the trackingId to that request.
        await using var gateway = Gateway(new() { ["Resilience:MaxRetries"] = "0" });
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        var (_, otherUcid) = await PlayerWithCoinsAsync(10);
        var trackingId = Guid.NewGuid();
        await World.SetFaultsAsync(new { failNext = 1, mode = "LoseAnswer" });

        using var lost = await ConsumeAsync(client, ucid, Coins, 4, trackingId);
        await AssertProblemAsync(lost, HttpStatusCode.ServiceUnavailable, "upstream_unavailable");
        using var other = await ConsumeAsync(client, otherUcid, Coins, 4, trackingId);

        await AssertProblemAsync(other, HttpStatusCode.Conflict, "tracking_id_reused");
        Assert.Equal(6, await BalanceAsync(user));
    }

    [Fact]
    public async Task Consume_SharesThePlayersOneBudgetWithQueries_AndIsCountedAsAStoreOperation()
    {
        await using var gateway = Gateway(new() { ["Budget:Limit"] = "2", ["Cache:Enabled"] = "false" });
        using var client = gateway.CreateClient();
        var (user, ucid) = await PlayerWithCoinsAsync(10);
        using var query = await QueryAsync(client, ucid, Products(Coins));
        using var consumed = await ConsumeAsync(client, ucid, Coins, 1, Guid.NewGuid());
        Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);
        Assert.StartsWith("\"upstream\";r=0;", consumed.Headers.GetValues("RateLimit").Single());

        using var refused = await ConsumeAsync(client, ucid, Coins, 1, Guid.NewGuid());

        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "budget_exhausted");
        // Refused before any Store call: its outcome is known (not sent), and the log says so rather than "unknown".
        Assert.Contains(gateway.Logs, l => l.Message.Contains("was not sent to the Store (BudgetExhausted)", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs, l => l.Message.Contains("without a known outcome", StringComparison.Ordinal));
        Assert.Equal(1, await World.ConsumesAsync(user));
        Assert.Equal(1, await World.OperationCallsAsync("consume"));
        Assert.Equal(9, await BalanceAsync(user));
    }
}
