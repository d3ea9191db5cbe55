namespace EntitlementGateway.Emulator;

/// <summary>Settings of the Store emulator (configuration section <c>Emulator</c>).</summary>
public sealed class EmulatorOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Emulator";

    /// <summary>The Entra application (client) id the token endpoint accepts, and the clientId minted into UCIDs.</summary>
    public string ClientId { get; set; } = "00000000-0000-0000-0000-00000000e001";

    /// <summary>The client secret the token endpoint accepts.</summary>
    public string ClientSecret { get; set; } = "emulator-secret";

    /// <summary>
    /// The public certificate (PEM) registered for the app, as in an Entra app registration: the token endpoint then also
    /// accepts a client assertion signed with its private key (MSAL's WithCertificate). Null: secrets only.
    /// </summary>
    public string? ClientCertificatePem { get; set; }

    /// <summary>
    /// A federated credential of the app, as in an Entra app registration (workload identity): the token endpoint also
    /// accepts a client assertion issued by <see cref="FederatedIssuer"/> for <see cref="FederatedSubject"/> and audience
    /// <see cref="FederatedAudience"/>, signed with the key of <see cref="FederatedIssuerKeyPem"/>. Null: none registered.
    /// </summary>
    public string? FederatedIssuer { get; set; }

    /// <summary>The subject the federated credential names, e.g. <c>system:serviceaccount:games:entitlement-gateway</c>.</summary>
    public string? FederatedSubject { get; set; }

    /// <summary>The audience a federated assertion must carry (Entra's default for workload identity).</summary>
    public string FederatedAudience { get; set; } = "api://AzureADTokenExchange";

    /// <summary>The issuer's public signing key (PEM, RSA): what Entra reads from the issuer's OIDC discovery.</summary>
    public string? FederatedIssuerKeyPem { get; set; }

    /// <summary>The secret a caller of the managed-identity endpoint (<c>GET /emulator/msi/token</c>) must send in
    /// <c>X-IDENTITY-HEADER</c>, as App Service's IDENTITY_HEADER.</summary>
    public string ManagedIdentityHeader { get; set; } = "emulator-identity-header";

    /// <summary>Admitted queries per user per window (the Store documents 100 per 5 minutes).</summary>
    public int RateLimit { get; set; } = 100;

    /// <summary>Length of the rolling rate-limit window, in seconds.</summary>
    public int RateLimitWindowSeconds { get; set; } = 300;

    /// <summary>Lifetime of minted and renewed UCIDs.</summary>
    public int UcidLifetimeDays { get; set; } = 30;

    /// <summary>
    /// Every page after the first also carries a <c>Revoked</c> copy of an item of the previous page,
    /// because the real Store repeats entitlements across pages with another status.
    /// </summary>
    public bool RepeatItemsAcrossPages { get; set; } = true;

    /// <summary>Serve at most this many items per page whatever maxPageSize asks (the real Store may page sooner); null = no cap.</summary>
    public int? PageSizeLimit { get; set; }

    /// <summary>Base latency added to every query and renew call, in milliseconds.</summary>
    public int LatencyMs { get; set; }

    /// <summary>Faults active from start-up; <c>PUT /emulator/faults</c> replaces them at run time.</summary>
    public FaultSettings Faults { get; set; } = new();

    /// <summary>
    /// A PFX file (no password) holding the TLS certificate to serve. When the file is missing it is created once
    /// (a new self-signed certificate), with its SHA-1 thumbprint, the form <c>Store:TrustedCertificateThumbprint</c>
    /// takes, beside it in <c>{CertificatePath}.thumbprint</c>; a gateway in another container can then pin it through a
    /// shared volume. Null or empty: a new in-memory certificate per run.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>Port of the HTTPS listener of <see cref="EmulatorServer"/> (0 = any free port).</summary>
    public int HttpsPort { get; set; }

    /// <summary>Port of the plain HTTP listener of <see cref="EmulatorServer"/> (0 = any free port).</summary>
    public int HttpPort { get; set; }

    /// <summary>Clock of the emulator (tokens, rate limit, audit). Not bindable: inject a fake in tests.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>What is wrong with these settings, each naming its key; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClientId)) errors.Add("Emulator:ClientId is required.");
        if (string.IsNullOrWhiteSpace(ClientSecret)) errors.Add("Emulator:ClientSecret is required.");
        if (RateLimit is < 1 or > 1_000_000) errors.Add("Emulator:RateLimit must be between 1 and 1000000.");
        if (RateLimitWindowSeconds is < 1 or > 86_400) errors.Add("Emulator:RateLimitWindowSeconds must be between 1 and 86400.");
        if (UcidLifetimeDays is < 1 or > 3650) errors.Add("Emulator:UcidLifetimeDays must be between 1 and 3650.");
        if (PageSizeLimit is < 1 or > 100) errors.Add("Emulator:PageSizeLimit must be between 1 and 100 when set.");
        if (LatencyMs is < 0 or > 600_000) errors.Add("Emulator:LatencyMs must be between 0 and 600000.");
        if (HttpsPort is < 0 or > 65_535) errors.Add("Emulator:HttpsPort must be a port number (0: any free port).");
        if (HttpPort is < 0 or > 65_535) errors.Add("Emulator:HttpPort must be a port number (0: any free port).");
        if (!string.IsNullOrWhiteSpace(FederatedIssuer) && (string.IsNullOrWhiteSpace(FederatedSubject) || string.IsNullOrWhiteSpace(FederatedIssuerKeyPem)))
            errors.Add("Emulator:FederatedIssuer needs Emulator:FederatedSubject and Emulator:FederatedIssuerKeyPem.");
        if (string.IsNullOrWhiteSpace(ManagedIdentityHeader)) errors.Add("Emulator:ManagedIdentityHeader is required.");
        if (Faults.Validate() is { } fault) errors.Add("Emulator:Faults: " + fault);
        return errors;
    }

    /// <summary>Throws, naming every bad key, when <see cref="Validate"/> finds anything.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new InvalidOperationException(string.Join(" ", errors));
    }
}
