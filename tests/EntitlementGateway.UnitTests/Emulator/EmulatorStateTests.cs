using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.UnitTests.Emulator;

/// <summary>A user's collection as the emulator stores it: copies in, copies out, the items' JSON text unchanged.</summary>
public class EmulatorStateTests
{
    [Fact]
    public void SeedEntitlements_KeepsACopy_TheCallersLaterChangesDoNotReachIt()
    {
        using var state = new EmulatorState();
        var item = new JsonObject { ["productId"] = "9N30KZZF4BR9", ["quantity"] = 5 };
        state.SeedEntitlements("u", [item]);

        item["quantity"] = 0;
        item["productId"] = "changed";

        var stored = Assert.Single(state.GetEntitlements("u"));
        Assert.Equal("9N30KZZF4BR9", (string?)stored["productId"]);
        Assert.Equal(5, (int?)stored["quantity"]);
    }

    [Fact]
    public void GetEntitlements_GivesCopies_ChangingOneLeavesTheCollection()
    {
        using var state = new EmulatorState();
        state.SeedEntitlements("u", [new JsonObject { ["productId"] = "A", ["status"] = "Active" }]);

        var first = state.GetEntitlements("u");
        first[0]["status"] = "Revoked";
        first[0]["added"] = true;

        var again = Assert.Single(state.GetEntitlements("u"));
        Assert.Equal("Active", (string?)again["status"]);
        Assert.False(again.ContainsKey("added"));
        Assert.NotSame(first[0], again);
    }

    [Fact]
    public void GetEntitlements_KeepsOrderDuplicatesAndTheItemsText()
    {
        using var state = new EmulatorState();
        // Number forms a round trip through .NET numbers would change, and a duplicate item: both come back as seeded.
        var seeded = new[]
        {
            (JsonObject)JsonNode.Parse("""{"productId":"B","quantity":1.50,"big":12345678901234567890123}""")!,
            (JsonObject)JsonNode.Parse("""{"productId":"A","quantity":1e2}""")!,
            (JsonObject)JsonNode.Parse("""{"productId":"B","quantity":1.50,"big":12345678901234567890123}""")!,
        };
        state.SeedEntitlements("u", seeded);

        var items = state.GetEntitlements("u");

        Assert.Equal(seeded.Select(i => i.ToJsonString()), items.Select(i => i.ToJsonString()));
        Assert.Equal("""{"productId":"B","quantity":1.50,"big":12345678901234567890123}""", items[0].ToJsonString());
    }

    [Fact]
    public void ItemText_TheSameItemSeededForManyUsers_IsOneSharedCopy_AndChangingOneUsersItemLeavesTheOthers()
    {
        using var state = new EmulatorState();
        JsonObject Item() => new() { ["productId"] = "9N30KZZF4BR9", ["productKind"] = "Consumable", ["quantity"] = 5 };
        for (var i = 0; i < 100; i++) state.SeedEntitlements($"u{i}", [Item(), Item()]);

        Assert.Equal(1, state.SharedItems);
        var mine = state.GetEntitlements("u7");
        mine[0]["quantity"] = 2;
        state.SeedEntitlements("u7", mine);

        Assert.Equal(2, state.SharedItems);
        Assert.Equal([2, 5], state.GetEntitlements("u7").Select(i => (int)i["quantity"]!));
        Assert.Equal([5, 5], state.GetEntitlements("u8").Select(i => (int)i["quantity"]!));
    }

    [Fact]
    public void ItemText_SharesEqualTexts_AndNeverUnequalOnes()
    {
        using var state = new EmulatorState();
        var a = "{\"productId\":\"A\"}"u8.ToArray();

        Assert.Same(a, state.ItemText(a));
        Assert.Same(a, state.ItemText([.. a]));
        var b = "{\"productId\":\"B\"}"u8.ToArray();
        Assert.Same(b, state.ItemText(b));
        Assert.Same(b, state.ItemText([.. b]));
        var longer = "{\"productId\":\"AB\"}"u8.ToArray();
        Assert.Same(longer, state.ItemText(longer));
        Assert.Equal(3, state.SharedItems);
    }

    [Fact]
    public void ItemText_IsBounded_InDistinctTexts_AndInTheirLength_AndResetEmptiesIt()
    {
        using var state = new EmulatorState();
        for (var i = 0; i < EmulatorState.MaxSharedItems; i++) state.ItemText(System.Text.Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"));
        Assert.Equal(EmulatorState.MaxSharedItems, state.SharedItems);

        // Past the bound a new text is its user's own; those already shared still are.
        var past = "{\"n\":-1}"u8.ToArray();
        Assert.Same(past, state.ItemText(past));
        Assert.NotSame(past, state.ItemText([.. past]));
        Assert.Equal(EmulatorState.MaxSharedItems, state.SharedItems);
        var first = state.ItemText("{\"n\":0}"u8.ToArray());
        Assert.Same(first, state.ItemText("{\"n\":0}"u8.ToArray()));

        state.Reset();
        Assert.Equal(0, state.SharedItems);
        var atLimit = new byte[EmulatorState.MaxSharedItemBytes];
        Assert.Same(atLimit, state.ItemText(atLimit));
        Assert.Same(atLimit, state.ItemText(new byte[EmulatorState.MaxSharedItemBytes]));
        var tooLong = new byte[EmulatorState.MaxSharedItemBytes + 1];
        Assert.Same(tooLong, state.ItemText(tooLong));
        Assert.NotSame(tooLong, state.ItemText(new byte[EmulatorState.MaxSharedItemBytes + 1]));
        Assert.Equal(1, state.SharedItems);
    }

    [Fact]
    public void GetEntitlements_NamesAreMatchedIgnoringCase_AsTheSeedEndpointReadsThem()
    {
        using var state = new EmulatorState();
        state.SeedEntitlements("u", [(JsonObject)JsonNode.Parse("""{"ProductId":"9N30KZZF4BR9"}""")!]);

        Assert.Equal("9N30KZZF4BR9", (string?)Assert.Single(state.GetEntitlements("u"))["productId"]);
    }

    [Fact]
    public void GetEntitlements_ForAUserNeverSeeded_IsEmpty_AndSeedingAnotherUserLeavesItSo()
    {
        using var state = new EmulatorState();
        state.SeedEntitlements("other", [new JsonObject { ["productId"] = "A" }]);

        Assert.Empty(state.GetEntitlements("u"));
        Assert.Single(state.GetEntitlements("other"));
    }

    [Fact]
    public void GetEntitlements_ReturnsItemsWithoutAParent_SoTheyCanBeAddedToAnAnswer()
    {
        using var state = new EmulatorState();
        state.SeedEntitlements("u", [new JsonObject { ["productId"] = "A" }, new JsonObject { ["productId"] = "B" }]);

        var answer = new JsonArray(state.GetEntitlements("u").Select(JsonNode? (i) => i).ToArray());

        Assert.Equal("""[{"productId":"A"},{"productId":"B"}]""", answer.ToJsonString());
    }

    [Fact]
    public void RefuseStreams_FailsOnlyCallsOnTheConnectionItFirstMet_UntilTheFaultsAreSetAgain()
    {
        using var state = new EmulatorState();
        state.Faults = new FaultSettings { Mode = FaultMode.RefuseStreams, FailNext = 3 };

        Assert.True(state.TakeFault("a").Fail);
        Assert.False(state.TakeFault("b").Fail);
        Assert.True(state.TakeFault("a").Fail);
        Assert.Equal(1, state.Faults.FailNext);

        state.Faults = new FaultSettings { Mode = FaultMode.RefuseStreams, FailNext = 1 };
        Assert.True(state.TakeFault("b").Fail);
        Assert.False(state.TakeFault("b").Fail);
    }

    [Fact]
    public void OtherModes_FailTheNextCalls_OnAnyConnection()
    {
        using var state = new EmulatorState();
        state.Faults = new FaultSettings { Mode = FaultMode.Drop, FailNext = 2 };

        Assert.True(state.TakeFault("a").Fail);
        Assert.True(state.TakeFault("b").Fail);
        Assert.False(state.TakeFault("c").Fail);
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(13, true)]
    [InlineData(14, false)]
    public void StreamErrorCode_IsAnHttp2ErrorCode(int code, bool valid) =>
        Assert.Equal(valid, new FaultSettings { StreamErrorCode = code }.Validate() is null);

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(60_000, true)]
    [InlineData(60_001, false)]
    public void ConsumeApplyMs_IsAtMostAMinute(int ms, bool valid) =>
        Assert.Equal(valid, new FaultSettings { ConsumeApplyMs = ms }.Validate() is null);

    [Fact]
    public void ConsumeBook_ApplyingAConsume_RefusesItsDuplicate_NotAnotherUsersOrTrackingId_UntilItEnds()
    {
        using var state = new EmulatorState();
        Assert.True(state.Consumables.TryBeginApplying("u", "t"));

        Assert.False(state.Consumables.TryBeginApplying("u", "t"));
        Assert.True(state.Consumables.TryBeginApplying("v", "t"));
        Assert.True(state.Consumables.TryBeginApplying("u", "t2"));
        state.Consumables.EndApplying("u", "t");
        Assert.True(state.Consumables.TryBeginApplying("u", "t"));
    }
}
