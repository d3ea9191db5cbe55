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
    /// <summary>
    /// Creates a self-signed server certificate: CN=localhost, SAN 127.0.0.1, ::1 and localhost, an ECDSA P-256 key.
    /// Clients pin the certificate itself, so the key type is free; an RSA-2048 key took 0.1 to 1 s of CPU to generate,
    /// most of the gateway's start-up in Emulator mode, a P-256 key takes well under a millisecond.
    /// </summary>
    public static X509Certificate2 CreateSelfSignedCertificate(TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        // An ECDSA key signs the (EC)DHE handshake; it never encrypts a key (RSA key exchange), so no KeyEncipherment.
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        using var ephemeral = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform (Windows needs it).
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// Loads the PFX at <paramref name="path"/>, or creates a self-signed certificate there when the file is missing,
    /// and (re)writes its SHA-1 thumbprint to <c>{path}.thumbprint</c> either way.
    /// </summary>
    public static X509Certificate2 LoadOrCreateCertificate(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        X509Certificate2 certificate;
        if (File.Exists(path))
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, null);
        }
        else
        {
            certificate = CreateSelfSignedCertificate(time);
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            // Write then move, so a reader never sees half a file.
            var temporary = path + ".tmp";
            File.WriteAllBytes(temporary, certificate.Export(X509ContentType.Pkcs12));
            File.Move(temporary, path, overwrite: true);
        }
        var thumbprintPath = ThumbprintPath(path);
        File.WriteAllText(thumbprintPath + ".tmp", certificate.Thumbprint);
        File.Move(thumbprintPath + ".tmp", thumbprintPath, overwrite: true);
        return certificate;
    }

    /// <summary>Where <see cref="LoadOrCreateCertificate"/> writes the thumbprint of the certificate at <paramref name="path"/>.</summary>
    public static string ThumbprintPath(string path) => path + ".thumbprint";

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
