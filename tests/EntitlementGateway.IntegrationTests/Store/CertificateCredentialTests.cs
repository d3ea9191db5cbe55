using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>The service token through MSAL with a client certificate (private_key_jwt) instead of a secret.</summary>
public sealed class CertificateCredentialTests : IDisposable
{
    private readonly string _pfxPath = Path.Combine(Path.GetTempPath(), $"eg-client-{Guid.NewGuid():N}.pfx");
    private readonly X509Certificate2 _certificate;

    public CertificateCredentialTests()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=entitlement-gateway-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllBytes(_pfxPath, _certificate.Export(X509ContentType.Pfx, "pfx-password"));
    }

    private async Task<(HttpStatusCode Status, string Body, long Tokens)> QueryWithCertificateAsync(string? registeredPem)
    {
        await using var emulator = await EmulatorServer.StartAsync(new EmulatorOptions { ClientCertificatePem = registeredPem });
        using var store = new StoreWorld(emulator);
        var settings = GatewayApplication.LiveSettings(emulator);
        settings["Store:ClientSecret"] = null;
        settings["Store:CertificatePath"] = _pfxPath;
        settings["Store:CertificatePassword"] = "pfx-password";
        await using var gateway = new GatewayApplication(settings);
        using var client = gateway.CreateClient();
        var ucid = await store.MintUcidAsync("cert-player");

        using var response = await client.PostAsJsonAsync("/v1/entitlements/query",
            new { userCollectionsId = ucid, products = new[] { new { productId = "9N30KZZF4BR9" } } });
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), (await store.StatsAsync())["tokensIssued"]!.GetValue<long>());
    }

    [Fact]
    public async Task Query_WithARegisteredClientCertificate_GetsItsServiceTokenThroughMsal()
    {
        var (status, _, tokens) = await QueryWithCertificateAsync(_certificate.ExportCertificatePem());

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, tokens);
    }

    [Fact]
    public async Task Query_WithAnUnregisteredCertificate_Returns502AndSaysTheTokenFailed()
    {
        using var otherKey = RSA.Create(2048);
        using var other = new CertificateRequest("CN=someone-else", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        var (status, body, tokens) = await QueryWithCertificateAsync(other.ExportCertificatePem());

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("service token", body);
        Assert.Equal(0, tokens);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        File.Delete(_pfxPath);
    }
}
