using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>
/// The service token without a client secret, through the real MSAL code path against the emulator: workload identity
/// (a federated token file, re-read at every acquisition) and a managed identity (the App Service-style endpoint MSAL
/// finds through IDENTITY_ENDPOINT and IDENTITY_HEADER).
/// </summary>
public sealed class SecretlessCredentialTests : IDisposable
{
    private const string Issuer = "https://oidc.cluster.test/issuer";
    private const string Subject = "system:serviceaccount:games:entitlement-gateway";
    private readonly RSA _issuerKey = RSA.Create(2048);
    private readonly string _tokenFile = Path.Combine(Path.GetTempPath(), $"eg-federated-{Guid.NewGuid():N}.jwt");

    /// <summary>A service account token as the kubelet projects it, signed by the cluster's issuer.</summary>
    private string ServiceAccountToken(string jti, string issuer = Issuer)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        static string Part(JsonObject o) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(o.ToJsonString()));
        var unsigned = Part(new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT" }) + "." + Part(new JsonObject
        {
            ["iss"] = issuer, ["sub"] = Subject, ["aud"] = new JsonArray("api://AzureADTokenExchange"),
            ["iat"] = now, ["nbf"] = now, ["exp"] = now + 3600, ["jti"] = jti,
        });
        return unsigned + "." + Base64Url.EncodeToString(_issuerKey.SignData(Encoding.ASCII.GetBytes(unsigned), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private EmulatorOptions FederatedEmulator() => new()
    {
        FederatedIssuer = Issuer,
        FederatedSubject = Subject,
        FederatedIssuerKeyPem = _issuerKey.ExportSubjectPublicKeyInfoPem(),
    };

    private static GatewayApplication WorkloadIdentityGateway(EmulatorServer emulator, string tokenFile)
    {
        var settings = GatewayApplication.LiveSettings(emulator);
        settings["Store:ClientSecret"] = null;
        settings["Store:Credential"] = "WorkloadIdentity";
        settings["Store:FederatedTokenFile"] = tokenFile;
        settings["Store:FreshTokenSeconds"] = "0"; // a Store 401 always means: get a new token
        return new GatewayApplication(settings);
    }

    [Fact]
    public async Task WorkloadIdentity_ReadsTheTokenFileAtEveryAcquisition_SoARotatedTokenIsWhatEntraSees()
    {
        await using var emulator = await EmulatorServer.StartAsync(FederatedEmulator());
        using var store = new StoreWorld(emulator);
        File.WriteAllText(_tokenFile, ServiceAccountToken("projected-1"));
        await using var gateway = WorkloadIdentityGateway(emulator, _tokenFile);
        using var client = gateway.CreateClient();
        var ucid = await store.MintUcidAsync(NewUser());

        using var first = await QueryAsync(client, ucid, fresh: true);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(["projected-1"], emulator.State.FederatedAssertionIds);

        // The kubelet rotates the token; the Store stops accepting the access token got with the old one.
        File.WriteAllText(_tokenFile, ServiceAccountToken("projected-2"));
        await store.RevokeTokensAsync();
        using var second = await QueryAsync(client, ucid, fresh: true);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(["projected-1", "projected-2"], emulator.State.FederatedAssertionIds);
    }

    [Fact]
    public async Task WorkloadIdentity_WithATokenFromAnUnregisteredIssuer_Returns502AndGetsNoToken()
    {
        await using var emulator = await EmulatorServer.StartAsync(FederatedEmulator());
        using var store = new StoreWorld(emulator);
        File.WriteAllText(_tokenFile, ServiceAccountToken("foreign-1", issuer: "https://oidc.elsewhere.test"));
        await using var gateway = WorkloadIdentityGateway(emulator, _tokenFile);
        using var client = gateway.CreateClient();

        using var response = await QueryAsync(client, await store.MintUcidAsync(NewUser()));

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Empty(emulator.State.FederatedAssertionIds);
        Assert.Equal(0, emulator.State.TokensIssued);
    }

    [Fact]
    public async Task ManagedIdentity_GetsItsServiceTokenFromTheIdentityEndpoint_InAGatewayProcess()
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var store = new StoreWorld(emulator);
        var ucid = await store.MintUcidAsync(NewUser());
        await using var gateway = GatewayProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Store__Mode"] = "Live",
            ["Store__Credential"] = "ManagedIdentity",
            ["Store__ClientId"] = emulator.Options.ClientId,
            ["Store__CollectionsBaseUrl"] = emulator.CollectionsBaseUrl.ToString(),
            ["Store__TrustedCertificateThumbprint"] = emulator.Certificate.Thumbprint,
            ["IDENTITY_ENDPOINT"] = new Uri(emulator.HttpBaseAddress, "emulator/msi/token").ToString(),
            ["IDENTITY_HEADER"] = emulator.Options.ManagedIdentityHeader,
        });
        var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = address };

        using var response = await QueryAsync(client, ucid);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + gateway.Output);
        Assert.Equal(1, emulator.State.ManagedIdentityTokens);
        Assert.Equal(1, emulator.State.TokensIssued);
    }

    public void Dispose()
    {
        _issuerKey.Dispose();
        File.Delete(_tokenFile);
    }
}
