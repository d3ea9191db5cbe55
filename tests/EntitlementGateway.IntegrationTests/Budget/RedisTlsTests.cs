using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EntitlementGateway.Budget;
using EntitlementGateway.Hosting;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Redis;

namespace EntitlementGateway.IntegrationTests.Budget;

/// <summary>The budget over TLS to a real redis-server (Debian's is built with TLS), with a password.</summary>
public sealed class RedisTlsTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("eg-redis-tls-").FullName;
    private X509Certificate2 _certificate = null!;
    private Process _redis = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        await File.WriteAllTextAsync(Path.Combine(_directory, "cert.pem"), _certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());

        _port = LoopbackPort.Free();
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, WorkingDirectory = _directory };
        foreach (var argument in new[] { "--port", "0", "--tls-port", _port.ToString(), "--bind", "127.0.0.1", "--tls-cert-file", "cert.pem",
                     "--tls-key-file", "key.pem", "--tls-ca-cert-file", "cert.pem", "--tls-auth-clients", "no", "--requirepass", "tls-secret",
                     "--save", "", "--appendonly", "no" })
            info.ArgumentList.Add(argument);
        _redis = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, _port);
                break;
            }
            catch (SocketException) when (started.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (!_redis.HasExited)
        {
            _redis.Kill();
            await _redis.WaitForExitAsync();
        }
        _redis.Dispose();
        _certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private (RedisConnection, RedisUserBudget) Budget(string? thumbprint)
    {
        var redis = new RedisOptions
        {
            ConnectionString = $"localhost:{_port},ssl=true,sslHost=localhost,password=tls-secret",
            TrustedCertificateThumbprint = thumbprint,
            OperationTimeoutMs = 3_000,
            ConnectTimeoutMs = 2_000,
        };
        var connection = new RedisConnection(Options.Create(redis));
        return (connection, new RedisUserBudget(connection, Options.Create(new BudgetOptions { Limit = 2 }), Options.Create(redis),
            TimeProvider.System, NullLogger<RedisUserBudget>.Instance));
    }

    [LocalRedisFact]
    public async Task Budget_OverTls_WithPasswordAndPinnedCertificate_Works()
    {
        var (connection, budget) = Budget(_certificate.Thumbprint);
        await using var _ = connection;

        Assert.True((await budget.TryAcquireAsync("tls-player")).Allowed);
        Assert.True((await budget.TryAcquireAsync("tls-player")).Allowed);
        Assert.False((await budget.TryAcquireAsync("tls-player")).Allowed);
    }

    [LocalRedisFact]
    public async Task Budget_OverTls_WithAnUntrustedCertificate_IsUnavailableNotHung()
    {
        var (connection, budget) = Budget(thumbprint: null);
        await using var _ = connection;

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<BudgetUnavailableException>(async () => await budget.TryAcquireAsync("tls-player"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }
}
