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
}
