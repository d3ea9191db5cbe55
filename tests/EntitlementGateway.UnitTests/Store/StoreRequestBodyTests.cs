using System.Text.Json.Nodes;
using EntitlementGateway.Store;

namespace EntitlementGateway.UnitTests.Store;

/// <summary>
/// The bodies the gateway sends, as bytes on the wire (<see cref="StoreWire.JsonBody{T}"/>), against the Store
/// documentation's own request example (the fixture; its <c>entitlementFilters</c> values are cut off in the document):
/// every field name, nested ones included, spelt exactly as the documents spell it, case included.
/// </summary>
public class StoreRequestBodyTests
{
    private const string Ucid = "eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln";

    private static JsonObject DocumentExample() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Store", "Fixtures", "b2bLicensePreview-request.json")))!.AsObject();

    /// <summary>Every field's path, arrays as <c>[]</c>: <c>beneficiaries[].identitytype</c>.</summary>
    private static SortedSet<string> Paths(JsonNode? node, string prefix = "")
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    var path = prefix.Length == 0 ? name : prefix + "." + name;
                    paths.Add(path);
                    paths.UnionWith(Paths(value, path));
                }
                break;
            case JsonArray a:
                foreach (var item in a) paths.UnionWith(Paths(item, prefix + "[]"));
                break;
        }
        return paths;
    }

    private static JsonObject Sent<T>(T request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        using var content = StoreWire.JsonBody(request, type);
        return JsonNode.Parse(content.ReadAsStream())!.AsObject();
    }

    // The documented fields the example leaves out: the request body table lists them.
    private static readonly string[] TableOnly = ["continuationToken", "validityType", "productSkuIds[].skuId"];

    private static readonly StoreBeneficiary Player = new("b2b", Ucid, "");

    [Fact]
    public void V8Query_EveryFieldItSends_IsSpeltAsTheDocumentsRequestExampleSpellsIt()
    {
        var documented = Paths(DocumentExample());
        documented.UnionWith(TableOnly);
        var request = new B2bLicensePreviewRequest
        {
            Beneficiaries = [Player],
            ProductSkuIds = [new StoreProductSkuId("9N30KZZF4BR9", "0010"), new StoreProductSkuId("9MXL21XPWWWK", null)],
            ContinuationToken = "{\"checkSatisfactionIndex\":2}",
            ValidityType = "All",
            Sandbox = "XDKS.1",
        };

        var sent = Paths(Sent(request, StoreJsonContext.Default.B2bLicensePreviewRequest));

        Assert.Empty(sent.Except(documented, StringComparer.Ordinal));
        Assert.Contains("beneficiaries[].identitytype", sent);
        Assert.Contains("market", sent);
    }

    [Fact]
    public async Task V8Query_AContinuationToken_IsWrittenAsTheDocumentsSecondRequestWritesIt_ByteForByte()
    {
        var request = new B2bLicensePreviewRequest
        {
            Beneficiaries = [Player], ProductSkuIds = [new StoreProductSkuId("9N30KZZF4BR9", null)], ContinuationToken = "{\"checkSatisfactionIndex\":2}",
        };
        using var content = StoreWire.JsonBody(request, StoreJsonContext.Default.B2bLicensePreviewRequest);
        var text = await content.ReadAsStringAsync();

        Assert.Contains("\"continuationToken\":\"{\\\"checkSatisfactionIndex\\\":2}\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", text, StringComparison.Ordinal);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), content.Headers.ContentLength);
    }

    [Theory]
    [InlineData("a<b>&'+c", "a<b>&'+c")]
    [InlineData("tab\there", "tab\\there")]
    [InlineData("quote\"back\\slash", "quote\\\"back\\\\slash")]
    [InlineData("\u0001", "\\u0001")]
    public async Task V8Query_AContinuationToken_IsEscapedOnlyWhereJsonRequires_AndReadsBackTheSame(string token, string written)
    {
        var request = new B2bLicensePreviewRequest { Beneficiaries = [Player], ProductSkuIds = [new StoreProductSkuId("9N30KZZF4BR9", null)], ContinuationToken = token };
        using var content = StoreWire.JsonBody(request, StoreJsonContext.Default.B2bLicensePreviewRequest);
        var text = await content.ReadAsStringAsync();

        Assert.Contains("\"continuationToken\":\"" + written + "\"", text, StringComparison.Ordinal);
        Assert.Equal(token, JsonNode.Parse(text)!["continuationToken"]!.GetValue<string>());
    }

    [Fact]
    public async Task TwoBodiesInARow_OnOneThread_AreEachWholeAndOnlyThemselves()
    {
        // The serialiser's buffer is reused per thread: a second body must not carry the first one's bytes.
        var longer = new B2bLicensePreviewRequest { Beneficiaries = [Player], ProductSkuIds = [new StoreProductSkuId("9N30KZZF4BR9", "0010"), new StoreProductSkuId("9MXL21XPWWWK", null)] };
        var shorter = new B2bLicensePreviewRequest { Beneficiaries = [Player], ProductSkuIds = [new StoreProductSkuId("9PLRFWZWWF91", null)] };

        using var first = StoreWire.JsonBody(longer, StoreJsonContext.Default.B2bLicensePreviewRequest);
        using var second = StoreWire.JsonBody(shorter, StoreJsonContext.Default.B2bLicensePreviewRequest);

        var text = await second.ReadAsStringAsync();
        Assert.Equal("""[{"productId":"9PLRFWZWWF91"}]""", JsonNode.Parse(text)!["productSkuIds"]!.ToJsonString());
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), second.Headers.ContentLength);
        Assert.Contains("9MXL21XPWWWK", await first.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void V8Query_SendsTheExamplesRequiredAndRecommendedValues_AndNoEntitlementFilters()
    {
        var sent = Sent(new B2bLicensePreviewRequest { Beneficiaries = [Player], ProductSkuIds = [new StoreProductSkuId("9N30KZZF4BR9", null)] },
            StoreJsonContext.Default.B2bLicensePreviewRequest);

        Assert.Equal("neutral", sent["market"]!.GetValue<string>());
        Assert.Equal(100, sent["maxPageSize"]!.GetValue<int>());
        Assert.True(sent["excludeDuplicates"]!.GetValue<bool>());
        Assert.True(sent["expandSatisfyingItems"]!.GetValue<bool>());
        Assert.Equal("b2b", sent["beneficiaries"]![0]!["identitytype"]!.GetValue<string>());
        Assert.Equal(Ucid, sent["beneficiaries"]![0]!["identityValue"]!.GetValue<string>());
        Assert.Equal("", sent["beneficiaries"]![0]!["localTicketReference"]!.GetValue<string>());
        Assert.Equal("""[{"productId":"9N30KZZF4BR9"}]""", sent["productSkuIds"]!.ToJsonString());
        // Optional and not guessed: the documents do not show how its values are written.
        Assert.False(sent.ContainsKey("entitlementFilters"));
        Assert.False(sent.ContainsKey("sbx"));
        Assert.False(sent.ContainsKey("continuationToken"));
    }

    [Fact]
    public void V9Query_EveryFieldItSends_IsOneOfV9sFields_SpeltAsTheV8Example()
    {
        // v9 keeps v8's fields but market, expandSatisfyingItems and entitlementFilters.
        var documented = Paths(DocumentExample());
        documented.UnionWith(TableOnly);
        documented.ExceptWith(["market", "expandSatisfyingItems", "entitlementFilters"]);
        var request = new PublisherQueryRequest
        {
            Beneficiaries = [Player],
            ProductSkuIds = [new StoreProductSkuId("9N30KZZF4BR9", "0010")],
            ContinuationToken = "t",
            ValidityType = "All",
            Sandbox = "XDKS.1",
        };

        var sent = Paths(Sent(request, StoreJsonContext.Default.PublisherQueryRequest));

        Assert.Empty(sent.Except(documented, StringComparer.Ordinal));
        Assert.Contains("beneficiaries[].identitytype", sent);
        Assert.Contains("maxPageSize", sent);
    }

    [Fact]
    public void Consume_NamesItsOneBeneficiarysTypeIdentityType()
    {
        var sent = Sent(new ConsumeStoreRequest
        {
            Beneficiary = new ConsumeBeneficiary("b2b", Ucid, ""),
            ProductId = "9N30KZZF4BR9",
            RemoveQuantity = 1,
            TrackingId = "6f1c3b8e-4a52-4d8e-9d0c-2b7f1e9a3c44",
        }, StoreJsonContext.Default.ConsumeStoreRequest);

        Assert.Equal("b2b", sent["beneficiary"]!["identityType"]!.GetValue<string>());
        Assert.Equal(Ucid, sent["beneficiary"]!["identityValue"]!.GetValue<string>());
    }

    [Fact]
    public async Task ABody_CountsEachTimeItsSendingBegins_AndReadingItIsNoSend()
    {
        using var content = StoreWire.JsonBody(new RenewKeyRequest("ticket", Ucid), StoreJsonContext.Default.RenewKeyRequest);
        Assert.Equal(0, content.Sends);

        // As the handler reads a request's content to send it: asynchronously (HTTP/1.1 and HTTP/2), or synchronously.
        await content.CopyToAsync(Stream.Null, null, CancellationToken.None);
        Assert.Equal(1, content.Sends);
        await content.CopyToAsync(Stream.Null);
        Assert.Equal(2, content.Sends);
        using (var sentSync = new MemoryStream())
        {
            content.CopyTo(sentSync, null, CancellationToken.None);
            Assert.Equal("""{"serviceTicket":"ticket","key":"eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln"}""", System.Text.Encoding.UTF8.GetString(sentSync.ToArray()));
        }
        Assert.Equal(3, content.Sends);
        // Reading the bytes as a stream is not sending them.
        await using (await content.ReadAsStreamAsync()) { }
        Assert.Equal(3, content.Sends);
        // The bytes sent are the body's, unchanged.
        using var sent = new MemoryStream();
        await content.CopyToAsync(sent);
        Assert.Equal("""{"serviceTicket":"ticket","key":"eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln"}""", System.Text.Encoding.UTF8.GetString(sent.ToArray()));
    }

    [Fact]
    public async Task NeverSent_OnlyWhenTheAttemptDidNotBeginToSendTheBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://store.invalid/")
        {
            Content = StoreWire.JsonBody(new RenewKeyRequest("ticket", Ucid), StoreJsonContext.Default.RenewKeyRequest),
        };
        var body = (StoreRequestBody)request.Content;
        var before = body.Sends;
        Assert.True(EntitlementGateway.Store.Resilience.StoreResilienceHandler.NeverSent(request, before));

        await body.CopyToAsync(Stream.Null);

        Assert.False(EntitlementGateway.Store.Resilience.StoreResilienceHandler.NeverSent(request, before));
        // Another attempt of the same request starts from the count it finds.
        Assert.True(EntitlementGateway.Store.Resilience.StoreResilienceHandler.NeverSent(request, body.Sends));
        // A body that does not count its sends tells nothing: it may have gone out.
        using var other = new HttpRequestMessage(HttpMethod.Post, "https://store.invalid/") { Content = new ByteArrayContent([1]) };
        Assert.False(EntitlementGateway.Store.Resilience.StoreResilienceHandler.NeverSent(other, null));
        using var none = new HttpRequestMessage(HttpMethod.Post, "https://store.invalid/");
        Assert.False(EntitlementGateway.Store.Resilience.StoreResilienceHandler.NeverSent(none, null));
    }
}
