using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace EntitlementGateway.Emulator;

/// <summary>Runs the Store emulator on its own: <c>dotnet run --project src/EntitlementGateway.Emulator</c>.</summary>
public static class EmulatorProgram
{
    /// <summary>Used unless <c>--urls</c> / <c>ASPNETCORE_URLS</c> / <c>urls</c> in configuration say otherwise.</summary>
    public static readonly string[] DefaultUrls = ["http://127.0.0.1:5080", "https://127.0.0.1:5443"];

    /// <summary>Starts the emulator and runs until Ctrl+C.</summary>
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var options = new EmulatorOptions();
        builder.Configuration.GetSection(EmulatorOptions.SectionName).Bind(options);
        options.ThrowIfInvalid();
        using var state = new EmulatorState(options);
        builder.Services.AddStoreEmulator(state);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
            builder.WebHost.UseUrls(DefaultUrls);
        // Created (or loaded from Emulator:CertificatePath) before any listener opens, so its thumbprint file exists
        // by the time the emulator answers on any port.
        var certificate = state.Certificate;
        // Every https:// URL serves the per-run self-signed certificate (its PEM is at GET /emulator/certificate).
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));

        await using var app = builder.Build();
        app.MapStoreEmulator();
        await app.StartAsync();

        foreach (var url in app.Urls)
        {
            Console.WriteLine($"Store emulator listening on {url}");
            if (url.StartsWith("https://", StringComparison.Ordinal))
            {
                var root = url.TrimEnd('/');
                Console.WriteLine($"  MSAL authority:       {root}/emulator   (validateAuthority: false, WithInstanceDiscovery(false))");
                Console.WriteLine($"  Collections base URL: {root}/emulator/store");
            }
        }
        Console.WriteLine($"Accepted client id: {options.ClientId}");
        Console.WriteLine($"Accepted secret:    {options.ClientSecret}");
        Console.WriteLine($"TLS certificate SHA-256: {state.Certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)} (PEM: GET /emulator/certificate)");
        Console.WriteLine($"TLS certificate SHA-1:   {state.Certificate.Thumbprint} (the gateway's Store__TrustedCertificateThumbprint)");
        await app.WaitForShutdownAsync();
    }
}
