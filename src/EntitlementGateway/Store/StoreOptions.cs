using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store;

public enum StoreMode
{
    /// <summary>The built-in Store emulator, hosted in this process (development only).</summary>
    Emulator,
    /// <summary>The real Microsoft Store, with this service's Entra ID credentials.</summary>
    Live,
}

/// <summary>How the gateway proves who it is to Entra ID for its service token.</summary>
public enum StoreCredential
{
    /// <summary>A client secret (Store:ClientSecret).</summary>
    Secret,
    /// <summary>A client certificate (Store:CertificatePath), sent as a signed assertion.</summary>
    Certificate,
    /// <summary>Azure workload identity: the Kubernetes service account token in Store:FederatedTokenFile
    /// (AZURE_FEDERATED_TOKEN_FILE), re-read at every acquisition and sent as a client assertion. No secret.</summary>
    WorkloadIdentity,
    /// <summary>Azure managed identity through MSAL's managed-identity application (the platform's endpoint). No secret.</summary>
    ManagedIdentity,
}

/// <summary>Which Collections query answers <c>POST /v1/entitlements/query</c>.</summary>
public enum CollectionsApi
{
    /// <summary>B2bLicensePreview (Collections v8).</summary>
    V8,
    /// <summary>PublisherQuery (Collections v9).</summary>
    V9,
}

/// <summary>How the gateway reaches the Microsoft Store (section <c>Store</c>).</summary>
public sealed class StoreOptions
{
    public const string Section = "Store";

    /// <summary>Emulator or Live; when unset, Live if credentials are configured, else Emulator.</summary>
    public StoreMode? Mode { get; set; }
    public string? TenantId { get; set; }
    /// <summary>The Entra ID application (client) id; UCIDs must carry it in their clientId claim.</summary>
    public string? ClientId { get; set; }
    /// <summary>Secret, Certificate, WorkloadIdentity or ManagedIdentity; unset: Certificate when Store:CertificatePath
    /// is set, else Secret.</summary>
    public StoreCredential? Credential { get; set; }
    public string? ClientSecret { get; set; }
    /// <summary>WorkloadIdentity: the projected service account token; defaults to AZURE_FEDERATED_TOKEN_FILE.</summary>
    public string? FederatedTokenFile { get; set; }
    /// <summary>ManagedIdentity: a user-assigned identity's client id; empty for the system-assigned identity.</summary>
    public string? ManagedIdentityClientId { get; set; }
    /// <summary>A PFX file with the client certificate (instead of a secret).</summary>
    public string? CertificatePath { get; set; }
    public string? CertificatePassword { get; set; }
    /// <summary>The token authority; defaults to <c>https://login.microsoftonline.com/{TenantId}</c>.</summary>
    public string? Authority { get; set; }
    public string CollectionsBaseUrl { get; set; } = "https://collections.mp.microsoft.com";
    public string ServiceScope { get; set; } = "https://onestore.microsoft.com/.default";
    public string CollectionsTicketScope { get; set; } = "https://onestore.microsoft.com/b2b/keys/create/collections/.default";
    /// <summary>The Collections query behind <c>/v1/entitlements/query</c>: V8 (B2bLicensePreview) or V9 (PublisherQuery).
    /// Game Pass always uses V9, the only one that shows it.</summary>
    public CollectionsApi QueryApi { get; set; } = CollectionsApi.V8;
    /// <summary>The most pages one query follows; bounds the budget one query can spend.</summary>
    public int MaxPages { get; set; } = 10;
    /// <summary>Upper bound of one UCID renewal call, in seconds (the Collections query is bounded by Resilience:TotalTimeoutSeconds).</summary>
    public int TimeoutSeconds { get; set; } = 10;
    /// <summary>Optional sandbox (<c>sbx</c>), e.g. XDKS.1; empty for RETAIL.</summary>
    public string? Sandbox { get; set; }
    /// <summary>A Store 401 with a service token younger than this is the request's fault (its UCID); with an older one
    /// the gateway first tries once more with a new token. Bounds how often forged UCIDs can make it ask for one.</summary>
    public int FreshTokenSeconds { get; set; } = 60;
    /// <summary>Refusals of this many different players' UCIDs ...</summary>
    public int SuspectCredentialsAfter { get; set; } = 10;
    /// <summary>... within this many seconds make the gateway suspect its own credentials (see StoreCredentialsMonitor).</summary>
    public int SuspectCredentialsWindowSeconds { get; set; } = 60;
    /// <summary>Live mode: obtain the service token as soon as the gateway has started, so wrong credentials show in the
    /// log and readiness at deploy time rather than at the first player's query, which then finds the token held.</summary>
    public bool TokenAtStart { get; set; } = true;
    /// <summary>Development and tests only: also trust this TLS certificate thumbprint (a local token endpoint).</summary>
    public string? TrustedCertificateThumbprint { get; set; }
    /// <summary>The HTTP version the Collections calls ask for: 2 (taken where the Store offers it in TLS negotiation,
    /// else 1.1), or 1.1. HTTP/2 multiplexes the calls on a few connections and costs both sides less CPU per call.</summary>
    public string HttpVersion { get; set; } = "2";

    /// <summary>The version the requests carry; with <see cref="HttpVersionPolicy.RequestVersionOrLower"/>, 2 falls back to 1.1.</summary>
    public Version EffectiveHttpVersion => HttpVersion == "2" ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11;

    public StoreCredential EffectiveCredential =>
        Credential ?? (string.IsNullOrWhiteSpace(CertificatePath) ? StoreCredential.Secret : StoreCredential.Certificate);

    public bool HasCredentials =>
        !string.IsNullOrWhiteSpace(ClientId) && (Credential is StoreCredential.WorkloadIdentity or StoreCredential.ManagedIdentity ||
            !string.IsNullOrWhiteSpace(ClientSecret) || !string.IsNullOrWhiteSpace(CertificatePath));

    public StoreMode EffectiveMode => Mode ?? (HasCredentials ? StoreMode.Live : StoreMode.Emulator);

    public string? EffectiveAuthority => !string.IsNullOrWhiteSpace(Authority)
        ? Authority
        : string.IsNullOrWhiteSpace(TenantId) ? null : $"https://login.microsoftonline.com/{TenantId}";
}

/// <summary>Start-up checks that name the key at fault.</summary>
public sealed class StoreOptionsValidator(IHostEnvironment environment) : IValidateOptions<StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreOptions o)
    {
        var errors = new List<string>();
        var production = environment.IsProduction();

        if (o.EffectiveMode == StoreMode.Emulator)
        {
            if (production)
                errors.Add("Store:Mode is Emulator (no Store credentials: set Store:ClientId with Store:ClientSecret or Store:CertificatePath, and Store:TenantId) but the environment is Production; the emulator is for development only.");
        }
        else
        {
            if (string.IsNullOrWhiteSpace(o.ClientId)) errors.Add("Store:ClientId is required in Live mode.");
            CredentialErrors(o, errors);
            // A managed identity gets its token from the platform's endpoint: no authority.
            if (o.EffectiveCredential != StoreCredential.ManagedIdentity)
            {
                if (o.EffectiveAuthority is not { } authority)
                    errors.Add("Store:TenantId (or Store:Authority) is required in Live mode.");
                else if (!IsAuthority(authority))
                    errors.Add("Store:Authority must be an absolute https:// URL naming the tenant (https://login.microsoftonline.com/<tenant>), without spaces, credentials, query or fragment.");
            }
            // The service token and players' UCIDs travel on this connection: clear text only to this machine, never in Production.
            if (!Uri.TryCreate(o.CollectionsBaseUrl, UriKind.Absolute, out var c) ||
                (c.Scheme != Uri.UriSchemeHttps && (production || c.Scheme != Uri.UriSchemeHttp || !c.IsLoopback)))
                errors.Add("Store:CollectionsBaseUrl must be an absolute https:// URL (http:// only to a loopback address outside Production).");
            ScopeErrors(o, errors);
        }
        if (production && !string.IsNullOrWhiteSpace(o.TrustedCertificateThumbprint))
            errors.Add("Store:TrustedCertificateThumbprint is for development and tests; it is refused in Production.");
        if (!Thumbprints.IsSha1OrEmpty(o.TrustedCertificateThumbprint))
            errors.Add("Store:TrustedCertificateThumbprint must be a certificate's SHA-1 thumbprint: 40 hex digits.");
        if (!Enum.IsDefined(o.QueryApi)) errors.Add("Store:QueryApi must be V8 or V9.");
        if (o.HttpVersion is not ("1.1" or "2")) errors.Add("Store:HttpVersion must be 1.1 or 2.");
        if (o.MaxPages is < 1 or > 100) errors.Add("Store:MaxPages must be between 1 and 100.");
        if (o.TimeoutSeconds is < 1 or > 120) errors.Add("Store:TimeoutSeconds must be between 1 and 120.");
        if (o.FreshTokenSeconds is < 0 or > 3600) errors.Add("Store:FreshTokenSeconds must be between 0 and 3600.");
        if (o.SuspectCredentialsAfter is < 2 or > 10_000) errors.Add("Store:SuspectCredentialsAfter must be between 2 and 10000.");
        if (o.SuspectCredentialsWindowSeconds is < 1 or > 3600) errors.Add("Store:SuspectCredentialsWindowSeconds must be between 1 and 3600.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsAuthority(string authority) =>
        authority == authority.Trim() && Uri.TryCreate(authority, UriKind.Absolute, out var a) && a.Scheme == Uri.UriSchemeHttps &&
        a.UserInfo.Length == 0 && a.Query.Length == 0 && a.Fragment.Length == 0 && a.AbsolutePath.Trim('/').Length > 0;

    /// <summary>
    /// Client credentials ask for a resource's <c>/.default</c>. The ticket scope must differ from the service scope:
    /// a ticket is handed to game clients, so the same scope would hand them the gateway's own service token.
    /// </summary>
    private static void ScopeErrors(StoreOptions o, List<string> errors)
    {
        static bool IsDefaultScope(string? scope) => !string.IsNullOrWhiteSpace(scope) && scope == scope.Trim() &&
            Uri.TryCreate(scope, UriKind.Absolute, out _) && scope.EndsWith("/.default", StringComparison.Ordinal);

        if (!IsDefaultScope(o.ServiceScope))
            errors.Add("Store:ServiceScope must be an absolute resource URI ending in /.default.");
        if (!IsDefaultScope(o.CollectionsTicketScope))
            errors.Add("Store:CollectionsTicketScope must be an absolute resource URI ending in /.default.");
        else if (string.Equals(o.ServiceScope.TrimEnd('/'), o.CollectionsTicketScope.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            errors.Add("Store:CollectionsTicketScope must differ from Store:ServiceScope: tickets are given to game clients, and the service token must never be.");
    }

    private static void CredentialErrors(StoreOptions o, List<string> errors)
    {
        if (o.Credential is { } set && !Enum.IsDefined(set))
            errors.Add("Store:Credential must be Secret, Certificate, WorkloadIdentity or ManagedIdentity.");
        switch (o.EffectiveCredential)
        {
            case StoreCredential.Secret when o.Credential is null && string.IsNullOrWhiteSpace(o.ClientSecret):
                errors.Add("Store:ClientSecret or Store:CertificatePath is required in Live mode (or Store:Credential WorkloadIdentity or ManagedIdentity).");
                break;
            case StoreCredential.Secret when string.IsNullOrWhiteSpace(o.ClientSecret):
                errors.Add("Store:ClientSecret is required when Store:Credential is Secret.");
                break;
            case StoreCredential.Certificate when string.IsNullOrWhiteSpace(o.CertificatePath):
                errors.Add("Store:CertificatePath is required when Store:Credential is Certificate.");
                break;
            case StoreCredential.Certificate when !File.Exists(o.CertificatePath):
                errors.Add($"Store:CertificatePath '{o.CertificatePath}' does not exist.");
                break;
            case StoreCredential.WorkloadIdentity when string.IsNullOrWhiteSpace(o.FederatedTokenFile):
                errors.Add("Store:FederatedTokenFile (or AZURE_FEDERATED_TOKEN_FILE) is required when Store:Credential is WorkloadIdentity.");
                break;
            case StoreCredential.WorkloadIdentity when !File.Exists(o.FederatedTokenFile):
                errors.Add($"Store:FederatedTokenFile '{o.FederatedTokenFile}' does not exist (is the workload identity webhook injecting it?).");
                break;
        }
    }
}

/// <summary>
/// Workload identity as its webhook sets it up: AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE stand in
/// for Store:ClientId, Store:TenantId and Store:FederatedTokenFile when those are not set.
/// </summary>
public sealed class StoreOptionsWorkloadDefaults(IConfiguration configuration) : IPostConfigureOptions<StoreOptions>
{
    public void PostConfigure(string? name, StoreOptions o)
    {
        if (o.Credential != StoreCredential.WorkloadIdentity) return;
        if (string.IsNullOrWhiteSpace(o.ClientId)) o.ClientId = configuration["AZURE_CLIENT_ID"];
        if (string.IsNullOrWhiteSpace(o.TenantId)) o.TenantId = configuration["AZURE_TENANT_ID"];
        if (string.IsNullOrWhiteSpace(o.FederatedTokenFile)) o.FederatedTokenFile = configuration["AZURE_FEDERATED_TOKEN_FILE"];
    }
}

/// <summary>Pinned certificate thumbprints, as .NET prints them.</summary>
public static class Thumbprints
{
    /// <summary>Empty, or 40 hex digits (SHA-1, what <c>X509Certificate2.Thumbprint</c> gives).</summary>
    public static bool IsSha1OrEmpty(string? value) =>
        string.IsNullOrEmpty(value) || (value.Length == 40 && value.All(char.IsAsciiHexDigit));
}
