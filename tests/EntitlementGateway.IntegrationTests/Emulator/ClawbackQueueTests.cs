using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Emulator;

/// <summary>An emulator with a hand-moved clock, for the queue's timeouts and the SAS expiry.</summary>
public sealed class QueueClockEmulatorFixture : EmulatorFixture
{
    public ManualTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override EmulatorOptions CreateOptions() => new() { TimeProvider = Clock };
}

/// <summary>The clawback sastoken endpoint and the queue behind it hold to the Store's and Azure Queue storage's documented rules.</summary>
public sealed class ClawbackQueueTests(QueueClockEmulatorFixture fixture) : IClassFixture<QueueClockEmulatorFixture>
{
    private const string SasTokenPath = "emulator/store/v8.0/b2b/clawback/sastoken";
    private readonly EmulatorClient _client = fixture.Client;

    private async Task<string> SasUriAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, SasTokenPath) { Content = new ByteArrayContent([]) };
        request.Headers.Authorization = new("Bearer", await _client.GetTokenAsync());
        using var response = await _client.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(DateTimeOffset.TryParse((string?)body["expiresOn"], out _), "expiresOn must be a date");
        return (string)body["uri"]!;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string uri, bool version = true)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (version) request.Headers.Add("x-ms-version", "2021-10-04");
        return await _client.Http.SendAsync(request);
    }

    private static string Messages(string sas, string path, string query)
    {
        var q = sas.IndexOf('?', StringComparison.Ordinal);
        return sas[..q] + "/messages" + path + sas[q..] + "&" + query;
    }

    private async Task<List<XElement>> GetAsync(string sas, int visibility = 30)
    {
        using var response = await SendAsync(HttpMethod.Get, Messages(sas, "", $"numofmessages=32&visibilitytimeout={visibility}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!.Elements("QueueMessage").ToList();
    }

    private async Task<string> EnqueueAsync()
    {
        using var response = await _client.Http.PostAsJsonAsync("emulator/clawback/events", new { orderId = Guid.NewGuid().ToString(), eventState = "Returned" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["messageId"]!;
    }

    [Fact]
    public async Task SasToken_WithoutAServiceToken_Is401_AndWithGet_Is405()
    {
        using var anonymous = await _client.Http.PostAsync(SasTokenPath, new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var get = new HttpRequestMessage(HttpMethod.Get, SasTokenPath);
        get.Headers.Authorization = new("Bearer", await _client.GetTokenAsync());
        using var answer = await _client.Http.SendAsync(get);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, answer.StatusCode);
    }

    [Fact]
    public async Task GetMessages_HidesWhatItReturnsForTheVisibilityTimeout_ThenGivesItAgainWithANewPopReceipt()
    {
        var sas = await SasUriAsync();
        fixture.Server.State.ClawbackQueue.Clear();
        var id = await EnqueueAsync();

        var first = Assert.Single(await GetAsync(sas, visibility: 10));
        Assert.Equal(id, (string?)first.Element("MessageId"));
        Assert.Equal("1", (string?)first.Element("DequeueCount"));
        Assert.Empty(await GetAsync(sas));

        fixture.Clock.Advance(TimeSpan.FromSeconds(11));
        var again = Assert.Single(await GetAsync(sas));
        Assert.Equal("2", (string?)again.Element("DequeueCount"));
        Assert.NotEqual((string?)first.Element("PopReceipt"), (string?)again.Element("PopReceipt"));

        // Only the latest pop receipt deletes; the earlier one is refused as Azure refuses it.
        using var stale = await SendAsync(HttpMethod.Delete, Messages(sas, "/" + id, "popreceipt=" + Uri.EscapeDataString((string)first.Element("PopReceipt")!)));
        Assert.Equal(HttpStatusCode.NotFound, stale.StatusCode);
        Assert.Equal("MessageNotFound", stale.Headers.GetValues("x-ms-error-code").Single());
        using var current = await SendAsync(HttpMethod.Delete, Messages(sas, "/" + id, "popreceipt=" + Uri.EscapeDataString((string)again.Element("PopReceipt")!)));
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
        fixture.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Empty(await GetAsync(sas));
    }

    [Fact]
    public async Task Queue_RefusesAChangedSignature_AnExpiredSas_AMissingVersion_AndOutOfRangeParameters()
    {
        var sas = await SasUriAsync();

        using var forged = await SendAsync(HttpMethod.Get, Messages(sas.Replace("sp=rp", "sp=rpd", StringComparison.Ordinal), "", "numofmessages=1"));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal("AuthenticationFailed", forged.Headers.GetValues("x-ms-error-code").Single());
        using var unversioned = await SendAsync(HttpMethod.Get, Messages(sas, "", "numofmessages=1"), version: false);
        Assert.Equal(HttpStatusCode.BadRequest, unversioned.StatusCode);
        using var tooMany = await SendAsync(HttpMethod.Get, Messages(sas, "", "numofmessages=33"));
        Assert.Equal("OutOfRangeQueryParameterValue", tooMany.Headers.GetValues("x-ms-error-code").Single());
        using var noReceipt = await SendAsync(HttpMethod.Delete, Messages(sas, "/" + Guid.NewGuid(), "x=1"));
        Assert.Equal(HttpStatusCode.BadRequest, noReceipt.StatusCode);

        fixture.Clock.Advance(QueueSas.Lifetime + TimeSpan.FromSeconds(1));
        using var expired = await SendAsync(HttpMethod.Get, Messages(sas, "", "numofmessages=1"));
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
    }
}
