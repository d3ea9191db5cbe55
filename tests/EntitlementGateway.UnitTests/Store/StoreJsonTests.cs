using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>
/// The Store's answers as its documentation shows them (the response example, made valid JSON, is the fixture), and
/// every documented variant of a field, read by the gateway's parser.
/// </summary>
public class StoreJsonTests
{
    private static readonly DateTimeOffset During = new(2021, 8, 31, 12, 0, 0, TimeSpan.Zero);

    internal static string DocumentExample() =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Store", "Fixtures", "b2bLicensePreview-response.json"));

    private static B2bLicensePreviewResponse Read(string json) => StoreJson.ReadPage(Encoding.UTF8.GetBytes(json))!;

    [Fact]
    public void ReadPage_TheDocumentsResponseExample_GivesBothItemsWithEveryUsedField()
    {
        var page = Read(DocumentExample());

        Assert.Equal("{\"checkSatisfactionIndex\":2}", page.ContinuationToken);
        Assert.Equal(2, page.Items!.Count);
        var durable = page.Items[0];
        Assert.Equal(("9N30KZZF4BR9", "0010", "Durable", "Active", "Single", 1), (durable.ProductId, durable.SkuId, durable.Kind, durable.Status, durable.AcquisitionType, durable.Quantity));
        Assert.Equal(new DateTimeOffset(2021, 8, 31, 21, 53, 7, TimeSpan.Zero).AddTicks(4374279), durable.EndDate);
        Assert.Equal("995ec667-8114-4ab9-9f11-597a8419a775", durable.TransactionId);
        var game = page.Items[1];
        Assert.Equal(DateTimeOffset.MaxValue, game.EndDate);
        Assert.Equal("09:43:52.8580690", game.TrialData!.TrialTimeRemaining);
        Assert.True(game.TrialData.IsTrial);
    }

    [Fact]
    public void DocumentExample_ThroughTheFilter_GivesTheGameAndTheDurableWhileBothAreValid()
    {
        var owned = EntitlementFilter.Apply(Read(DocumentExample()).Items!, During);

        Assert.Equal(["9MXL21XPWWWK", "9N30KZZF4BR9"], owned.Select(e => e.ProductId));
        Assert.Equal(35032.858069, owned[0].Trial.TimeRemainingSeconds);
        // The durable's endDate (2021-08-31T21:53:07) has passed a day later: only the game remains.
        Assert.Equal(["9MXL21XPWWWK"], EntitlementFilter.Apply(Read(DocumentExample()).Items!, During.AddDays(1)).Select(e => e.ProductId));
    }

    [Theory]
    [InlineData("productKind")]
    [InlineData("productType")]
    public void ReadPage_TakesTheKindUnderEitherDocumentedName(string field)
    {
        var item = Read($$"""{"items":[{"productId":"9N30KZZF4BR9","{{field}}":"Durable"}]}""").Items!.Single();
        Assert.Equal("Durable", item.Kind);
    }

    [Theory]
    [InlineData("9999-12-31T23:59:59.9999999+00:00")]
    [InlineData("9999-12-31T23:59:59.9999999-08:00")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    [InlineData("9999-12-31T23:59:59Z")]
    public void ReadPage_TheForeverEndDate_IsTheLatestInstantWhateverItsOffset(string endDate)
    {
        var item = Read($$"""{"items":[{"productId":"9N30KZZF4BR9","endDate":"{{endDate}}"}]}""").Items!.Single();
        Assert.True(item.EndDate >= new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero));
    }

    [Theory]
    [InlineData("2021-08-30T21:53:08.2565331+00:00", 2565331)]
    [InlineData("2021-08-30T21:53:08.2565331Z", 2565331)]
    [InlineData("2021-08-30T21:53:08Z", 0)]
    [InlineData("2021-08-30T23:53:08.2565331+02:00", 2565331)]
    public void ReadPage_DatesWithUpToSevenFractionalDigits_AreExact(string text, long fractionTicks)
    {
        var item = Read($$"""{"items":[{"productId":"9N30KZZF4BR9","startDate":"{{text}}"}]}""").Items!.Single();
        Assert.Equal(new DateTimeOffset(2021, 8, 30, 21, 53, 8, TimeSpan.Zero).AddTicks(fractionTicks), item.StartDate);
    }

    [Theory]
    [InlineData("""{"items":null}""")]
    [InlineData("""{}""")]
    [InlineData("""{"continuationToken":null}""")]
    [InlineData("""{"items":[]}""")]
    public void ReadPage_ItemsAbsentNullOrEmpty_IsAPageWithNoItems(string json)
    {
        var page = Read(json);
        Assert.Empty(page.Items ?? []);
        Assert.Empty(EntitlementFilter.Apply(page.Items ?? [], During));
    }

    [Fact]
    public void ReadPage_NullEntriesInItems_AreDropped()
    {
        var page = Read("""{"items":[null,{"productId":"9N30KZZF4BR9"},null]}""");
        Assert.Equal("9N30KZZF4BR9", Assert.Single(page.Items!).ProductId);
    }

    [Theory]
    [InlineData("""{"items":[null]}""", new string[0])]
    [InlineData("""{"items":[null,null]}""", new string[0])]
    [InlineData("""{"items":[{"productId":"A"},null]}""", new[] { "A" })]
    [InlineData("""{"items":[{"productId":"A"},{"productId":"B"}]}""", new[] { "A", "B" })]
    public void ReadPage_KeepsEveryItemInOrder_AndOnlyTheItems(string json, string[] productIds)
    {
        var page = Read(json);
        Assert.Equal(productIds, page.Items!.Select(i => i.ProductId));
    }

    [Theory]
    [InlineData("\"tags\":[]")]
    [InlineData("\"tags\":[\"a\",\"b\"]")]
    [InlineData("\"tags\":\"\"")]
    [InlineData("\"tags\":null")]
    [InlineData("\"recurrenceData\":{}")]
    [InlineData("\"beneficiary\":{\"identityType\":\"pub\"}")]
    [InlineData("\"somethingNew\":{\"nested\":[1,2,{\"x\":true}]}")]
    [InlineData("\"quantity\":\"3\"")]
    [InlineData("\"quantity\":2147483647")]
    [InlineData("\"trialData\":{\"isTrial\":false,\"isInTrialPeriod\":false,\"trialTimeRemaining\":null}")]
    [InlineData("\"trialData\":null")]
    [InlineData("\"satisfiedByProductIds\":null")]
    public void ReadPage_DocumentedVariantsAndUnknownFields_DoNotStopTheItem(string field)
    {
        var item = Read($$"""{"items":[{"productId":"9N30KZZF4BR9","status":"Active","startDate":"2021-01-01T00:00:00Z","endDate":"9999-12-31T23:59:59.9999999+00:00",{{field}}}]}""").Items!.Single();
        Assert.Single(EntitlementFilter.Apply([item], During));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(900)]
    public void ReadPage_AnUnknownFieldNestedDeep_IsReadPast(int depth)
    {
        var deep = new string('[', depth) + new string(']', depth);
        var page = Read($$"""{"items":[{"productId":"9N30KZZF4BR9","status":"Active","startDate":"2021-01-01T00:00:00Z","endDate":"9999-12-31T23:59:59.9999999+00:00","deep":{{deep}}}]}""");
        Assert.Single(EntitlementFilter.Apply([page.Items!.Single()], During));
    }

    [Fact]
    public void ReadPage_NestingBeyondAnyBound_IsNotTheDocumentedJson()
    {
        var deep = new string('[', 5000) + new string(']', 5000);
        Assert.Throws<JsonException>(() => StoreJson.ReadPage(Encoding.UTF8.GetBytes($$"""{"items":[{"deep":{{deep}}}]}""")));
    }

    [Theory]
    [InlineData("99999999999", int.MaxValue)]
    [InlineData("1e400", int.MaxValue)]
    [InlineData("-1e400", int.MinValue)]
    [InlineData("99999999999999999999", int.MaxValue)]
    [InlineData("-2147483649", int.MinValue)]
    [InlineData("2147483648", int.MaxValue)]
    [InlineData("2.9", 2)]
    [InlineData("-0.5", -1)]
    [InlineData("\"99999999999\"", int.MaxValue)]
    [InlineData("\"2.5\"", 2)]
    [InlineData("\"1e3\"", 1000)]
    public void ReadPage_AQuantityThatIsNotAWholeInt_IsRoundedDownOrHeldAtTheRangesEnd(string json, int expected)
    {
        // Never more than the Store said, and one odd item does not cost the player the rest of the page.
        Assert.Equal(expected, Read($$"""{"items":[{"productId":"9N30KZZF4BR9","quantity":{{json}}}]}""").Items!.Single().Quantity);
    }

    [Theory]
    [InlineData("99999999999", WholeInt)]
    [InlineData("1e400", WholeInt)]
    [InlineData("-2147483649", WholeInt)]
    [InlineData("2147483648", WholeInt)]
    [InlineData("2.9", WholeInt)]
    [InlineData("\"99999999999\"", WholeInt)]
    [InlineData("\"2.5\"", WholeInt)]
    [InlineData("\"many\"", WholeInt)]
    [InlineData("true", "quantity must be a number")]
    [InlineData("{}", "quantity must be a number")]
    public void AConsumeAnswersQuantities_MustBeExactWholeInts(string json, string message)
    {
        // A consume's receipt is checked against what was asked: a rounded or clamped balance would pass as true.
        var newQuantity = Assert.Throws<JsonException>(() => ReadConsume($$"""{"newQuantity":{{json}}}"""));
        Assert.Contains(message, newQuantity.Message, StringComparison.Ordinal);
        var consumed = Assert.Throws<JsonException>(() => ReadConsume($$"""{"newQuantity":1,"orderTransactions":[{"quantityConsumed":{{json}}}]}"""));
        Assert.Contains(message, consumed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("-2147483648", int.MinValue)]
    [InlineData("5.0", 5)]
    [InlineData("3e2", 300)]
    [InlineData("\"-7\"", -7)]
    public void AConsumeAnswersWholeQuantities_AreRead(string json, int expected)
    {
        var answer = ReadConsume($$"""{"newQuantity":{{json}},"orderTransactions":[{"quantityConsumed":{{json}}}]}""");
        Assert.Equal((expected, expected), (answer.NewQuantity, answer.OrderTransactions!.Single().QuantityConsumed));
    }

    private const string WholeInt = "quantity must be a whole number within the 32-bit range";

    private static ConsumeStoreResponse ReadConsume(string json) => JsonSerializer.Deserialize(json, StoreJsonContext.Default.ConsumeStoreResponse)!;

    [Theory]
    [InlineData("\"many\"")]
    [InlineData("\"\"")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[1]")]
    [InlineData("{\"a\":[1,{\"b\":2}]}")]
    public void ReadPage_AQuantityThatIsNoNumber_IsReadAsMissing_AndTheRestOfTheItemIsRead(string json)
    {
        var item = Read($$"""{"items":[{"quantity":{{json}},"productId":"9N30KZZF4BR9","status":"Active"}]}""").Items!.Single();
        Assert.Null(item.Quantity);
        Assert.Equal(("9N30KZZF4BR9", "Active"), (item.ProductId, item.Status));
    }

    [Theory]
    [InlineData("""{"items":[],"continuationToken":"next","continuationToken":null}""")]
    [InlineData("""{"items":[{"productId":"9N30KZZF4BR9","status":"Revoked","status":"Active"}]}""")]
    [InlineData("""{"items":[{"productId":"9N30KZZF4BR9","status":"Revoked","Status":"Active"}]}""")]
    [InlineData("""{"items":[],"items":[{"productId":"9N30KZZF4BR9"}]}""")]
    public void ReadPage_AMemberNamedTwice_IsNotTheDocumentedJson(string body)
    {
        // Last-one-wins would let a second continuationToken end the paging, or a second status make an item Active.
        Assert.Throws<JsonException>(() => StoreJson.ReadPage(Encoding.UTF8.GetBytes(body)));
    }

    [Theory]
    [InlineData("<html><body><h1>502 Bad Gateway</h1></body></html>")]
    [InlineData("{\"items\":[{\"productId\":")]
    [InlineData("{\"items\":[{\"startDate\":\"yesterday\"}]}")]
    [InlineData("{\"items\":{\"productId\":\"9N30KZZF4BR9\"}}")]
    public void ReadPage_BodiesThatAreNotTheDocumentedJson_ThrowJsonException(string body)
    {
        Assert.Throws<JsonException>(() => StoreJson.ReadPage(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void ReadPage_AnEmptyBodyOrJsonNull_IsNoPage()
    {
        Assert.Null(StoreJson.ReadPage([]));
        Assert.Null(StoreJson.ReadPage("null"u8));
    }

    [Fact]
    public void ReadPage_NullFields_AreReadAsMissing()
    {
        var item = Read("""{"items":[{"productId":"9N30KZZF4BR9","quantity":null,"endDate":null,"startDate":null,"trialData":{"trialTimeRemaining":null}}]}""").Items!.Single();
        Assert.Equal((null, null, null, null), (item.Quantity, item.EndDate, item.StartDate, item.TrialData!.TrialTimeRemaining));
    }

    [Theory]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("-2147483648", int.MinValue)]
    [InlineData("5.0", 5)]
    [InlineData("2147483647.0", int.MaxValue)]
    [InlineData("-2147483648.0", int.MinValue)]
    [InlineData("3e2", 300)]
    [InlineData("-5", -5)]
    [InlineData("\"-7\"", -7)]
    [InlineData("\"3\"", 3)]
    public void ReadPage_WholeQuantities_AreRead(string json, int expected)
    {
        Assert.Equal(expected, Read($$"""{"items":[{"quantity":{{json}}}]}""").Items!.Single().Quantity);
    }

    [Theory]
    [InlineData("{\"a\":[1,2]}")]
    [InlineData("[1,\"x\"]")]
    [InlineData("true")]
    public void ReadPage_ATrialTimeOfAnotherShape_IsSkippedAsMissing_AndTheRestIsRead(string json)
    {
        var item = Read($$"""{"items":[{"trialData":{"trialTimeRemaining":{{json}},"isTrial":true},"productId":"9N30KZZF4BR9"}]}""").Items!.Single();
        Assert.Null(item.TrialData!.TrialTimeRemaining);
        Assert.True(item.TrialData.IsTrial);
        Assert.Equal("9N30KZZF4BR9", item.ProductId);
    }

    [Fact]
    public void ReadPage_ATrialTimeAsANumber_IsKeptAsItsText()
    {
        Assert.Equal("35032.5", Read("""{"items":[{"trialData":{"trialTimeRemaining":35032.5}}]}""").Items!.Single().TrialData!.TrialTimeRemaining);
    }

    [Theory]
    [InlineData("{\"items\":[{\"startDate\":\"yesterday\"}]}", "ISO 8601")]
    [InlineData("{\"items\":[{\"startDate\":5}]}", "must be a string")]
    public void ReadPage_AnUnreadableField_SaysWhichKind(string body, string message)
    {
        Assert.Contains(message, Assert.Throws<JsonException>(() => StoreJson.ReadPage(Encoding.UTF8.GetBytes(body))).Message);
    }

    [Fact]
    public void Items_WrittenAndReadBack_KeepTheirValues()
    {
        var item = new StoreCollectionItem
        {
            ProductId = "9N30KZZF4BR9", Quantity = 3, StartDate = During, EndDate = DateTimeOffset.MaxValue,
            TrialData = new StoreTrialData { TrialTimeRemaining = "01:00:00" },
        };
        var json = JsonSerializer.Serialize(new B2bLicensePreviewResponse { Items = [item] }, StoreJsonContext.Default.B2bLicensePreviewResponse);
        var back = Read(json).Items!.Single();
        Assert.Equal((3, During, DateTimeOffset.MaxValue, "01:00:00"), (back.Quantity, back.StartDate, back.EndDate, back.TrialData!.TrialTimeRemaining));
        Assert.Equal(item with { TrialData = back.TrialData }, back with { TrialData = back.TrialData });
    }

    [Theory]
    [InlineData("100000:00:00:00", 100000 * 86400.0)]
    [InlineData("2400000:00:00", 2400000 * 3600.0)]
    public void ParseTrialTimeRemaining_TheLargestAcceptedValues_AreRead(string text, double seconds)
    {
        Assert.Equal(seconds, StoreJson.ParseTrialTimeRemaining(text)!.Value.TotalSeconds);
    }

    [Theory]
    [InlineData("100001:00:00:00")]
    [InlineData("2400001:00:00")]
    [InlineData("2147483647:00:00:00")]
    public void ParseTrialTimeRemaining_BeyondThem_IsNull_NotAnOverflow(string text)
    {
        Assert.Null(StoreJson.ParseTrialTimeRemaining(text));
    }

    [Theory]
    [InlineData("09:43:52.8580690", 35032.858069)] // HH:MM:SS.fffffff, the example's form
    [InlineData("01:09:43:52.858", 121432.858)] // DD:HH:MM:SS.MS, the table's form
    [InlineData("00:00:00:01.5", 1.5)]
    [InlineData("23:59:59", 86399)]
    [InlineData("2.09:43:52.8580690", 2 * 86400 + 35032.858069)] // a timespan past one day: D.HH:MM:SS.fffffff
    [InlineData("1.00:00:00", 86400)]
    [InlineData("10.23:00:00", 10 * 86400 + 23 * 3600)]
    public void ParseTrialTimeRemaining_ReadsBothDocumentedForms(string text, double seconds)
    {
        Assert.Equal(seconds, StoreJson.ParseTrialTimeRemaining(text)!.Value.TotalSeconds, 6);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("1:2")]
    [InlineData("1:2:3:4:5")]
    [InlineData("aa:00:00")]
    [InlineData("00:61:00")]
    [InlineData("00:00:60")]
    [InlineData("-1:00:00")]
    [InlineData("1.24:00:00")] // a timespan's hours stop at 23 once days are written
    [InlineData("x.01:00:00")]
    [InlineData("1.01:00:00:00")]
    public void ParseTrialTimeRemaining_AnythingElse_IsNull(string? text)
    {
        Assert.Null(StoreJson.ParseTrialTimeRemaining(text));
    }

    /// <summary>
    /// Inputs nobody here wrote: the document's example, mutated at random (fields dropped, nulled, retyped, renamed,
    /// duplicated, strings cut). Whatever comes out, reading it either gives a page the filter can use or says
    /// <see cref="JsonException"/>: never another exception, which would surface as a 500.
    /// </summary>
    [Fact]
    public void ReadPage_MutatedDocumentExamples_GiveAPageOrJsonException_NeverAnythingElse()
    {
        const int seed = 20261129;
        var random = new Random(seed);
        var pages = 0;
        for (var i = 0; i < 3000; i++)
        {
            var doc = JsonNode.Parse(DocumentExample())!.AsObject();
            for (var m = random.Next(1, 6); m > 0; m--) Mutate(doc, random);
            var bytes = Encoding.UTF8.GetBytes(doc.ToJsonString());
            try
            {
                var page = StoreJson.ReadPage(bytes);
                EntitlementFilter.Apply(page?.Items ?? [], During);
                pages++;
            }
            catch (JsonException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"Case {i} (seed {seed}) threw {ex.GetType().Name}: {ex.Message}\n{doc.ToJsonString()}");
            }
        }
        Assert.InRange(pages, 1000, 3000); // most mutations stay readable: the parser is lenient, not brittle
    }

    private static readonly JsonNode?[] Replacements =
    [
        null, true, 0, -1, 1e300, long.MaxValue, "", "x", "9999-12-31T23:59:59.9999999-14:00", "0001-01-01T00:00:00+14:00",
        new JsonArray(), new JsonObject(), new JsonArray(1, "a", null),
    ];

    private static void Mutate(JsonObject doc, Random random)
    {
        if (doc["items"] is not JsonArray { Count: > 0 } items || random.Next(20) == 0)
        {
            doc["items"] = random.Next(3) switch { 0 => null, 1 => new JsonObject(), _ => new JsonArray() };
            return;
        }
        if (items[random.Next(items.Count)] is not JsonObject item || item.Count == 0)
        {
            items.Add(null);
            return;
        }
        var names = item.Select(p => p.Key).ToList();
        var name = names[random.Next(names.Count)];
        switch (random.Next(5))
        {
            case 0: item.Remove(name); break;
            case 1: item[name] = Replacements[random.Next(Replacements.Length)]?.DeepClone(); break;
            case 2:
                var value = item[name]?.DeepClone();
                item.Remove(name);
                item[name.ToUpperInvariant()] = value;
                break;
            case 3:
                if (item[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0) item[name] = s[..random.Next(s.Length)];
                break;
            default:
                items.Add(item.DeepClone());
                break;
        }
    }
}
