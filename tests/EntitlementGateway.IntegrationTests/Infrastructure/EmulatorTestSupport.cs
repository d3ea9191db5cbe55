using System.Buffers.Text;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>One real emulator per test class (random ports, so classes run in parallel).</summary>
public class EmulatorFixture : IAsyncLifetime
{
    public EmulatorServer Server { get; private set; } = null!;

    public EmulatorClient Client { get; private set; } = null!;

    protected virtual EmulatorOptions CreateOptions() => new();

    public async Task InitializeAsync()
    {
        Server = await EmulatorServer.StartAsync(CreateOptions());
        Client = new EmulatorClient(Server);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>A clock the test moves by hand (the emulator reads time only through it).</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>Speaks real HTTPS to an emulator, trusting exactly its certificate.</summary>
public sealed class EmulatorClient(EmulatorServer server) : IDisposable
{
    public const string StoreScope = "https://onestore.microsoft.com/.default";
    public const string QueryPath = "emulator/store/v8.0/collections/b2bLicensePreview";
    public const string RenewPath = "emulator/store/v6.0/b2b/keys/renew";

    public HttpClient Http { get; } = server.CreateHttpsClient();

    public static string NewUserId() => "user-" + Guid.NewGuid().ToString("N")[..12];

    public Task<HttpResponseMessage> RequestTokenAsync(string scope = StoreScope, string? clientId = null, string? secret = null) =>
        Http.PostAsync("emulator/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId ?? server.Options.ClientId,
            ["client_secret"] = secret ?? server.Options.ClientSecret,
            ["scope"] = scope,
        }));

    public async Task<string> GetTokenAsync(string scope = StoreScope)
    {
        using var response = await RequestTokenAsync(scope);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body!["access_token"]!.GetValue<string>();
    }

    public async Task<string> MintUcidAsync(string userId, JsonObject? body = null)
    {
        using var response = await Http.PostAsync($"emulator/users/{userId}/collections-id",
            body is null ? null : JsonContent.Create(body));
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonObject>();
        return json!["userCollectionsId"]!.GetValue<string>();
    }

    public async Task SeedAsync(string userId, params JsonObject[] items)
    {
        using var response = await Http.PutAsync($"emulator/users/{userId}/entitlements", JsonContent.Create(new JsonArray(items)));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>Posts a collections query; <paramref name="extra"/> adds/overrides request fields.</summary>
    public async Task<HttpResponseMessage> QueryAsync(string? bearer, string ucid, JsonObject? extra = null, string localTicketReference = "ltr-1")
    {
        var body = new JsonObject
        {
            ["beneficiaries"] = new JsonArray(new JsonObject
            {
                ["identitytype"] = "b2b",
                ["identityValue"] = ucid,
                ["localTicketReference"] = localTicketReference,
            }),
            ["market"] = "neutral",
            ["excludeDuplicates"] = true,
        };
        if (extra is not null)
            foreach (var (name, value) in extra) body[name] = value?.DeepClone();
        using var request = new HttpRequestMessage(HttpMethod.Post, QueryPath) { Content = Json(body) };
        if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
        return await Http.SendAsync(request);
    }

    /// <summary>Posts a key renewal, framed as the Store requires.</summary>
    public Task<HttpResponseMessage> RenewAsync(string? serviceTicket, string? key) =>
        Http.PostAsync(RenewPath, Json(new JsonObject { ["serviceTicket"] = serviceTicket, ["key"] = key }));

    /// <summary>
    /// A body as the Store's request header table asks: whole, with Content-Length, <c>application/json; charset=utf-8</c>.
    /// (JsonContent would be sent chunked, which the Store endpoints refuse with 411.)
    /// </summary>
    public static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public async Task<JsonObject> GetJsonAsync(string path) =>
        (await Http.GetFromJsonAsync<JsonObject>(path))!;

    public void Dispose() => Http.Dispose();
}

public static class Jwt
{
    public static JsonObject Header(string jwt) => Part(jwt, 0);

    public static JsonObject Payload(string jwt) => Part(jwt, 1);

    /// <summary>Re-encodes the payload with a change, keeping the original signature (a forgery).</summary>
    public static string Tamper(string jwt, Action<JsonObject> change)
    {
        var parts = jwt.Split('.');
        var payload = Payload(jwt);
        change(payload);
        parts[1] = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return string.Join('.', parts);
    }

    private static JsonObject Part(string jwt, int index) =>
        JsonNode.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[index]))!.AsObject();
}

public static class Items
{
    public static JsonObject Item(string id, string productId, string kind = "Durable", string status = "Active", string skuId = "0010") => new()
    {
        ["acquiredDate"] = "2024-01-01T00:00:00.0000000+00:00",
        ["acquisitionType"] = "Single",
        ["beneficiary"] = new JsonObject { ["identityType"] = "b2b", ["identityValue"] = "pub-user" },
        ["endDate"] = "9999-12-31T23:59:59.9999999+00:00",
        ["id"] = id,
        ["modifiedDate"] = "2024-01-01T00:00:00.0000000+00:00",
        ["productId"] = productId,
        ["productKind"] = kind,
        ["quantity"] = 1,
        ["satisfiedByProductIds"] = new JsonArray(),
        ["skuId"] = skuId,
        ["startDate"] = "2024-01-01T00:00:00.0000000+00:00",
        ["status"] = status,
        ["tags"] = new JsonArray(),
        ["transactionId"] = Guid.NewGuid().ToString(),
    };
}
