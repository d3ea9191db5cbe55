using System.Security.Cryptography.X509Certificates;
using EntitlementGateway.Emulator;

namespace EntitlementGateway.DeploymentTests;

/// <summary>Emulator:CertificatePath, which lets docker-compose's gateway pin the standalone emulator's certificate.</summary>
public sealed class EmulatorCertificateTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "eg-certs-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void A_missing_file_is_created_with_its_thumbprint_beside_it_and_reused_afterwards()
    {
        var path = Path.Combine(_directory, "nested", "emulator.pfx");
        using var first = EmulatorTls.LoadOrCreateCertificate(path);
        Assert.True(first.HasPrivateKey);
        Assert.Equal(first.Thumbprint, File.ReadAllText(EmulatorTls.ThumbprintPath(path)));
        Assert.False(File.Exists(path + ".tmp"));

        using var second = EmulatorTls.LoadOrCreateCertificate(path);
        Assert.Equal(first.Thumbprint, second.Thumbprint);
        Assert.True(second.HasPrivateKey);
    }

    [Fact]
    public async Task The_emulator_serves_the_certificate_from_the_file()
    {
        var path = Path.Combine(_directory, "emulator.pfx");
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { CertificatePath = path });
        var thumbprint = File.ReadAllText(EmulatorTls.ThumbprintPath(path));
        Assert.Equal(thumbprint, server.Certificate.Thumbprint);

        string? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => { presented = certificate?.Thumbprint; return true; },
        };
        using var http = new HttpClient(handler) { BaseAddress = server.HttpsBaseAddress };
        (await http.GetAsync("emulator/stats")).EnsureSuccessStatusCode();
        Assert.Equal(thumbprint, presented);
    }

    [Fact]
    public void Without_a_path_each_state_makes_its_own_certificate()
    {
        using var a = new EmulatorState();
        using var b = new EmulatorState();
        Assert.NotEqual(a.Certificate.Thumbprint, b.Certificate.Thumbprint);
        // It serves TLS, so it must carry its private key.
        Assert.True(a.Certificate.HasPrivateKey);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
