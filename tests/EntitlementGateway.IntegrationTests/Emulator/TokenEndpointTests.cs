using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Identity.Client;

namespace EntitlementGateway.IntegrationTests.Emulator;

public sealed class TokenEndpointTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorServer _server = fixture.Server;

    private IConfidentialClientApplication Msal(string? secret = null) =>
        ConfidentialClientApplicationBuilder.Create(_server.Options.ClientId)
            .WithClientSecret(secret ?? _server.Options.ClientSecret)
            .WithAuthority(_server.Authority, validateAuthority: false)
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(new PinnedMsalHttpClientFactory(_server.Certificate))
            .Build();

    [Fact]
    public async Task Msal_AcquireTokenForClient_GetsRs256TokenForOnestoreAudience()
    {
        var before = _server.State.TokensIssued;

        var result = await Msal().AcquireTokenForClient([EmulatorClient.StoreScope]).ExecuteAsync();

        var header = Jwt.Header(result.AccessToken);
        var claims = Jwt.Payload(result.AccessToken);
        Assert.Equal("RS256", header["alg"]!.GetValue<string>());
        Assert.Equal("https://onestore.microsoft.com", claims["aud"]!.GetValue<string>());
        Assert.Equal(_server.Options.ClientId, claims["appid"]!.GetValue<string>());
        Assert.True(claims["exp"]!.GetValue<long>() > claims["iat"]!.GetValue<long>());
        Assert.Equal(TokenSource.IdentityProvider, result.AuthenticationResultMetadata.TokenSource);
        Assert.True(_server.State.TokensIssued > before);
    }

    [Fact]
    public async Task Msal_TokenFromEmulator_IsAcceptedByTheCollectionsQuery()
    {
        var token = (await Msal().AcquireTokenForClient([EmulatorClient.StoreScope]).ExecuteAsync()).AccessToken;
        var userId = EmulatorClient.NewUserId();
        var ucid = await fixture.Client.MintUcidAsync(userId);

        using var response = await fixture.Client.QueryAsync(token, ucid);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Msal_WithWrongSecret_FailsWithInvalidClient()
    {
        var ex = await Assert.ThrowsAsync<MsalServiceException>(() =>
            Msal("wrong-secret").AcquireTokenForClient([EmulatorClient.StoreScope]).ExecuteAsync());

        Assert.Equal("invalid_client", ex.ErrorCode);
        Assert.Equal(401, ex.StatusCode);
    }

    [Fact]
    public async Task Token_ForCollectionsKeyScope_HasCollectionsKeyAudience()
    {
        var token = await fixture.Client.GetTokenAsync("https://onestore.microsoft.com/b2b/keys/create/collections/.default");

        Assert.Equal("https://onestore.microsoft.com/b2b/keys/create/collections", Jwt.Payload(token)["aud"]!.GetValue<string>());
    }

    [Fact]
    public async Task Token_WithUnknownClientId_Returns401InvalidClientInAadShape()
    {
        using var response = await fixture.Client.RequestTokenAsync(clientId: Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("invalid_client", body!["error"]!.GetValue<string>());
        Assert.StartsWith("AADSTS", body["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(body["error_codes"]);
    }

    [Fact]
    public async Task Token_WithScopeWithoutDefaultSuffix_Returns400InvalidScope()
    {
        using var response = await fixture.Client.RequestTokenAsync(scope: "https://onestore.microsoft.com");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_scope", (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Https_ClientThatDoesNotTrustTheEmulatorCertificate_IsRejected()
    {
        using var untrusting = new HttpClient { BaseAddress = _server.HttpsBaseAddress };

        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("emulator/stats"));
    }

    [Fact]
    public async Task Https_SocketsHttpHandlerWithTrustingSslOptions_Connects()
    {
        using var handler = new SocketsHttpHandler { SslOptions = EmulatorTls.CreateTrustingSslOptions(_server.Certificate) };
        using var http = new HttpClient(handler) { BaseAddress = _server.HttpsBaseAddress };

        using var response = await http.GetAsync("emulator/stats");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Certificate_IsServedOverHttpAsPemAndMatchesTheTlsCertificate()
    {
        using var http = new HttpClient { BaseAddress = _server.HttpBaseAddress };

        var pem = await http.GetStringAsync("emulator/certificate");

        using var served = X509Certificate2.CreateFromPem(pem);
        Assert.Equal(_server.Certificate.Thumbprint, served.Thumbprint);
        Assert.Contains("CN=localhost", served.Subject, StringComparison.Ordinal);
    }

    private sealed class PinnedMsalHttpClientFactory(X509Certificate2 certificate) : IMsalHttpClientFactory
    {
        // MSAL asks for a client per request; one shared client keeps its connection pool.
        private readonly HttpClient _client = new(EmulatorTls.CreateTrustingHandler(certificate));

        public HttpClient GetHttpClient() => _client;
    }
}
