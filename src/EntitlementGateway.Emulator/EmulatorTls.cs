using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EntitlementGateway.Emulator;

/// <summary>
/// The emulator's self-signed TLS certificate and the client side of trusting exactly that certificate.
/// MSAL refuses non-HTTPS authorities, so the emulator must speak TLS even on loopback.
/// </summary>
public static class EmulatorTls
{
    /// <summary>Creates a self-signed server certificate: CN=localhost, SAN 127.0.0.1, ::1 and localhost.</summary>
    public static X509Certificate2 CreateSelfSignedCertificate(TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        using var ephemeral = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform (Windows needs it).
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// A handler that trusts only <paramref name="certificate"/> (pinned by SHA-256 hash), nothing else:
    /// the OS trust store does not know a per-run self-signed cert, and trusting "anything" would hide TLS mistakes.
    /// </summary>
    public static HttpClientHandler CreateTrustingHandler(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => IsPinned(certificate, cert) };
    }

    /// <summary>The same pinning for <see cref="SocketsHttpHandler"/> users.</summary>
    public static SslClientAuthenticationOptions CreateTrustingSslOptions(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert is X509Certificate2 presented && IsPinned(certificate, presented),
        };
    }

    /// <summary>Exports the public certificate as PEM (for tools that cannot take an X509Certificate2).</summary>
    public static string ExportPem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.ExportCertificatePem();
    }

    private static bool IsPinned(X509Certificate2 expected, X509Certificate2? presented) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(
            expected.GetCertHash(HashAlgorithmName.SHA256), presented.GetCertHash(HashAlgorithmName.SHA256));
}
