using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Clawback;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Clawback;

/// <summary>Refunds and chargebacks end to end: the emulator's queue, real gateways, Redis, and a receiver on loopback.</summary>
public sealed class ClawbackTests(RedisServerFixture redis) : ClawbackTestsBase, IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task Event_ForAnOrderSeenInAnAnswer_ReachesTheStudioSignedAndOnce_AcrossTwoReplicas()
    {
        await using var first = ClawbackGateway(redis.ConnectionString);
        await using var second = ClawbackGateway(redis.ConnectionString);
        using var client = first.CreateClient();
        using var otherClient = second.CreateClient();
        var user = NewUser();
        var order = Guid.NewGuid().ToString();
        await World.SeedAsync(user, Item("9N30KZZF4BR9", kind: "Durable", orderId: order));
        using (var answer = await QueryAsync(client, await World.MintUcidAsync(user))) answer.EnsureSuccessStatusCode();

        // The Store may queue an event twice: both copies are read (one by each replica, most likely), one is handled.
        var eventId = Guid.NewGuid().ToString();
        var clawback = new { id = eventId, userId = user, productId = "9N30KZZF4BR9", eventState = "Revoked", source = "/Purchase/Chargeback" };
        await World.EnqueueClawbackAsync(clawback);
        await World.EnqueueClawbackAsync(clawback);

        var recorded = await EventWhenAsync(otherClient, eventId, e => (string?)e["delivery"] == "Delivered");
        Assert.Equal("user-" + user, (string?)recorded["player"]);
        Assert.True((bool)recorded["playerKnown"]!);
        Assert.Equal(order, (string?)recorded["orderId"]);
        Assert.Equal("reconcile", (string?)recorded["action"]);
        // Both messages are deleted, the duplicate as such.
        await UntilAsync(async () => (int)(await World.ClawbackQueueAsync())["messages"]! == 0, "both messages deleted");
        // A later event delivered is a barrier: had a replica handled the duplicate as new, it would have been sent before it.
        var later = (string)(await World.EnqueueClawbackAsync(new { orderId = Guid.NewGuid().ToString(), eventState = "Returned" }))["event"]!["id"]!;
        await EventWhenAsync(client, later, e => (string?)e["delivery"] == "Delivered");

        var delivery = Assert.Single(Receiver.Of(eventId));
        Assert.Equal("application/json", delivery.ContentType?.Split(';')[0]);
        Assert.True(WebhookSignature.Verify(Secret, delivery.Timestamp, delivery.Signature, delivery.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
            "the signature must verify with the shared secret");
        Assert.False(WebhookSignature.Verify("another-secret-0123456789-0123456789", delivery.Timestamp, delivery.Signature, delivery.Body,
            DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
        var body = JsonNode.Parse(delivery.Body)!.AsObject();
        Assert.Equal(eventId, (string?)body["eventId"]);
        Assert.Equal("user-" + user, (string?)body["player"]);
        Assert.Equal(order, (string?)body["orderId"]);
        Assert.Equal("Revoked", (string?)body["eventState"]);
        Assert.Equal("/Purchase/Chargeback", (string?)body["source"]);
        Assert.False(string.IsNullOrEmpty((string?)body["meaning"]));

        var theirs = await EventsAsync(client, "user-" + user);
        Assert.Equal(eventId, (string?)Assert.Single(theirs)!["eventId"]);
        // One SAS per replica, kept between reads; neither it nor the queue costs the player budget (one unit: the query).
        Assert.Equal(2, (long)(await World.StatsAsync())["operations"]!["clawbackSasToken"]!);
        Assert.Equal(1, (int)(await BudgetAsync(client, "user-" + user))["used"]!);
    }

    [Fact]
    public async Task Event_WrittenAsTheDocumentsLeaveOpen_BehindASasWithOnlyItsUri_ReachesItsPlayer()
    {
        // The documents name the sastoken answer's uri only, and give no type or letter case for the event's id, order
        // id or eventState: a number for the id, the order's GUID in upper case without hyphens, and "returned".
        await World.SetFaultsAsync(new { sasUriOnly = true });
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();
        var user = NewUser();
        var order = Guid.NewGuid();
        await World.SeedAsync(user, Item("9N30KZZF4BR9", orderId: order.ToString()));
        var ucid = await World.MintUcidAsync(user);
        using (var fetched = await QueryAsync(client, ucid)) Assert.Equal("upstream", await ServedFromAsync(fetched));
        var eventId = Random.Shared.NextInt64(1, long.MaxValue);
        var json = $$$"""{"id":{{{eventId}}},"source":"/Purchase/Refund","data":{"orderId":"{{{order.ToString("N").ToUpperInvariant()}}}","eventState":"returned"}}""";

        await World.EnqueueClawbackAsync(new { rawMessageText = EntitlementGateway.Clawback.ClawbackMessages.Encode(json) });
        var recorded = await EventWhenAsync(client, eventId.ToString(System.Globalization.CultureInfo.InvariantCulture), e => (string?)e["delivery"] == "Delivered");

        Assert.Equal("user-" + user, (string?)recorded["player"]);
        Assert.Equal("Returned", (string?)recorded["eventState"]);
        Assert.Equal("none", (string?)recorded["action"]);
        using var after = await QueryAsync(client, ucid);
        Assert.Equal("upstream", await ServedFromAsync(after)); // the player's cached answer was dropped
        var sas = (await World.RequestsAsync()).Where(r => ((string)r!["path"]!).EndsWith("/clawback/sastoken", StringComparison.Ordinal)).ToList();
        Assert.Single(sas); // one SAS, kept by its signed expiry, not asked for on every read
    }

    [Fact]
    public async Task Event_ForAKnownPlayer_DropsTheirCachedAnswers()
    {
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();
        var user = NewUser();
        await World.SeedAsync(user, Item("9N30KZZF4BR9", orderId: Guid.NewGuid().ToString()));
        var ucid = await World.MintUcidAsync(user);
        using (var fetched = await QueryAsync(client, ucid)) Assert.Equal("upstream", await ServedFromAsync(fetched));
        using (var cached = await QueryAsync(client, ucid)) Assert.Equal("cache", await ServedFromAsync(cached));

        var eventId = (string)(await World.EnqueueClawbackAsync(new { userId = user, productId = "9N30KZZF4BR9", eventState = "Returned" }))["event"]!["id"]!;
        await EventWhenAsync(client, eventId, e => e["delivery"] is not null);

        using var after = await QueryAsync(client, ucid);
        Assert.Equal("upstream", await ServedFromAsync(after));
    }

    [Fact]
    public async Task Event_ForAnOrderSeenOnlyInAConsume_NamesThePlayerWhoseBalanceWentDown()
    {
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();
        var user = NewUser();
        var order = Guid.NewGuid().ToString();
        await World.SeedAsync(user, Consumable("9NCOINS00001", 10, order));
        using (var consumed = await ConsumeAsync(client, await World.MintUcidAsync(user), "9NCOINS00001", 4, Guid.NewGuid()))
            consumed.EnsureSuccessStatusCode();

        var eventId = (string)(await World.EnqueueClawbackAsync(new { orderId = order, eventState = "Revoked" }))["event"]!["id"]!;
        var recorded = await EventWhenAsync(client, eventId, e => (string?)e["delivery"] == "Delivered");

        Assert.True((bool)recorded["playerKnown"]!);
        Assert.Equal("user-" + user, (string?)recorded["player"]);
    }

    [Fact]
    public async Task Webhook_WhenTheReceiverFails_IsRetriedWithTheSameEventIdUntilAcknowledged()
    {
        Receiver.FailFirst = 2;
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();

        var eventId = (string)(await World.EnqueueClawbackAsync(new { orderId = Guid.NewGuid().ToString(), eventState = "Refunded" }))["event"]!["id"]!;
        var recorded = await EventWhenAsync(client, eventId, e => (string?)e["delivery"] == "Delivered");

        Assert.Equal(3, (int)recorded["deliveryAttempts"]!);
        var attempts = Receiver.Of(eventId);
        Assert.Equal([500, 500, 204], attempts.Select(a => a.AnsweredStatus));
        Assert.All(attempts, a => Assert.True(WebhookSignature.Verify(Secret, a.Timestamp, a.Signature, a.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5))));
    }

    [Fact]
    public async Task Event_ForAnOrderNeverSeen_IsRecordedAsUnknownPlayer_AndStillSent()
    {
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();
        var order = Guid.NewGuid().ToString();

        var eventId = (string)(await World.EnqueueClawbackAsync(new { orderId = order, eventState = "ChargebackReversal", source = "/Purchase/Chargeback" }))["event"]!["id"]!;
        var recorded = await EventWhenAsync(client, eventId, e => (string?)e["delivery"] == "Delivered");

        Assert.False((bool)recorded["playerKnown"]!);
        Assert.Null(recorded["player"]);
        Assert.Equal("undo", (string?)recorded["action"]);
        var body = JsonNode.Parse(Assert.Single(Receiver.Of(eventId)).Body)!.AsObject();
        Assert.False((bool)body["playerKnown"]!);
        Assert.Equal(order, (string?)body["orderId"]);
        // The documented "player": null is there, not left out: a receiver's schema sees one shape.
        Assert.True(body.ContainsKey("player"));
        Assert.Null(body["player"]);
        Assert.True(body.ContainsKey("recurrenceData"));
        // The log names the event and its order (the logger's own event id used to take the event's place).
        Assert.Contains(gateway.Logs, l => l.Message.Contains($"Clawback event {eventId} of order {order}", StringComparison.Ordinal));
        Assert.Contains(gateway.Logs, l => l.Message.Contains($"Clawback webhook for event {eventId} acknowledged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Event_WithOddOptionalFields_AndAnIdNoHeaderCanCarry_IsStillSent_WithTheIdPercentEncodedInTheHeader()
    {
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();
        var eventId = "odd\r\nX-Injected: 1 é";
        var json = "{\"id\":" + System.Text.Json.JsonSerializer.Serialize(eventId) + """
            ,"time":"nope","source":"/Purchase/Chargeback",
             "data":{"orderId":"o-odd","eventState":"Revoked","eventDate":"yesterday","purchasedDate":123,"sandboxId":5,
                     "recurrenceData":{"recurrenceId":"r1","nested":{"a":[1,2]}}}}
            """;

        await World.EnqueueClawbackAsync(new { rawMessageText = EntitlementGateway.Clawback.ClawbackMessages.Encode(json) });
        var recorded = await EventWhenAsync(client, eventId, e => (string?)e["delivery"] == "Delivered");

        Assert.Equal("Revoked", (string?)recorded["eventState"]);
        var delivery = Assert.Single(Receiver.Of(Uri.EscapeDataString(eventId)));
        var body = JsonNode.Parse(delivery.Body)!.AsObject();
        Assert.Equal(eventId, (string?)body["eventId"]);
        Assert.Equal("5", (string?)body["sandboxId"]);
        Assert.Null(body["eventDate"]);
        Assert.Equal("""{"recurrenceId":"r1","nested":{"a":[1,2]}}""", body["recurrenceData"]!.ToJsonString());
        Assert.True(WebhookSignature.Verify(Secret, delivery.Timestamp, delivery.Signature, delivery.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task Webhook_WhoseAttemptThrows_CountsAsAFailedAttempt_AndIsRetried_WhileOthersAreSent()
    {
        var throwsFor = "";
        await using var built = ClawbackGateway();
        await using var gateway = built.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddHttpClient(nameof(WebhookSender)).AddHttpMessageHandler(() => new ThrowingFor(() => throwsFor))));
        using var client = gateway.CreateClient();
        // The id is chosen before the event is queued: a gateway that reads the queue at once must already meet the throw.
        var poisoned = Guid.NewGuid().ToString();
        throwsFor = poisoned;
        Assert.Equal(poisoned, (string)(await World.EnqueueClawbackAsync(new { id = poisoned, orderId = "o-throws", eventState = "Refunded" }))["event"]!["id"]!);

        // Counted and retried, so it is given up in time (it stayed pending with no attempt, and stopped the pass).
        var recorded = await EventWhenAsync(client, poisoned, e => (int)e["deliveryAttempts"]! >= 2);
        Assert.Equal("Pending", (string?)recorded["delivery"]);
        Assert.Equal("the webhook could not be sent (InvalidOperationException)", (string?)recorded["lastDeliveryError"]);
        var other = (string)(await World.EnqueueClawbackAsync(new { orderId = "o-fine", eventState = "Refunded" }))["event"]!["id"]!;
        await EventWhenAsync(client, other, e => (string?)e["delivery"] == "Delivered");
    }

    /// <summary>Throws from inside the webhook's HTTP call for one event id, as a broken handler or header would.</summary>
    private sealed class ThrowingFor(Func<string> eventId) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.Headers.GetValues(WebhookSignature.EventIdHeader).Single() == eventId()
                ? throw new InvalidOperationException("broken")
                : base.SendAsync(request, cancellationToken);
    }

    [Fact]
    public async Task Message_ThatIsNotAnEvent_IsRecordedAsMalformed_AndDeleted()
    {
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();

        var messageId = (string)(await World.EnqueueClawbackAsync(new { rawMessageText = "not base64 json!" }))["messageId"]!;
        var recorded = await EventWhenAsync(client, "malformed:" + messageId, _ => true);

        Assert.Equal("Malformed", (string?)recorded["eventState"]);
        Assert.Equal("NotSent", (string?)recorded["delivery"]);
        Assert.Equal("not base64 json!", (string?)recorded["messageText"]); // deleted from the queue, but not lost
        await UntilAsync(async () => (int)(await World.ClawbackQueueAsync())["messages"]! == 0, "the malformed message deleted");
        Assert.Empty(Receiver.Deliveries);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("501")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("+5")]
    [InlineData("1e400")]
    [InlineData("99999999999999999999")]
    [InlineData("1&limit=2")]
    public async Task OpsEvents_WithABadLimit_Is400NamingIt(string limit)
    {
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();
        using var response = await EventsWithLimitAsync(client, limit);
        var problem = await AssertProblemAsync(response, System.Net.HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(limit.Contains('&', StringComparison.Ordinal) ? "limit may be given once." : "limit must be a whole number between 1 and 500.",
            problem["detail"]!.GetValue<string>());
        using var anonymous = await client.GetAsync("/ops/clawback/events");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("500")]
    public async Task OpsEvents_WithALimitInRange_Is200(string limit)
    {
        await using var gateway = ClawbackGateway();
        using var client = gateway.CreateClient();
        using var response = await EventsWithLimitAsync(client, limit);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<HttpResponseMessage> EventsWithLimitAsync(HttpClient client, string limit)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/clawback/events?limit=" + limit);
        request.Headers.Add("X-Api-Key", OpsKey);
        return await client.SendAsync(request);
    }
}
