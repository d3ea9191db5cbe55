using EntitlementGateway.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace EntitlementGateway.UnitTests.Store;

public sealed class StoreCredentialOptionsTests
{
    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Testing";
        public string ApplicationName { get; set; } = "tests";
        public string ContentRootPath { get; set; } = "/";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }

    private static IReadOnlyList<string> Errors(StoreOptions o) =>
        new StoreOptionsValidator(new Environment()).Validate(null, o).Failures?.ToList() ?? [];

    [Fact]
    public void WorkloadIdentity_IsLiveWithoutASecret_AndNeedsAnExistingTokenFile()
    {
        var file = Path.GetTempFileName();
        try
        {
            var o = new StoreOptions { Credential = StoreCredential.WorkloadIdentity, ClientId = "app", TenantId = "tenant", FederatedTokenFile = file };
            Assert.Equal(StoreMode.Live, o.EffectiveMode);
            Assert.Empty(Errors(o));
            o.FederatedTokenFile = file + ".missing";
            Assert.Contains(Errors(o), e => e.Contains("Store:FederatedTokenFile", StringComparison.Ordinal));
            o.FederatedTokenFile = null;
            Assert.Contains(Errors(o), e => e.Contains("AZURE_FEDERATED_TOKEN_FILE", StringComparison.Ordinal));
        }
        finally { File.Delete(file); }
    }

    [Theory]
    [InlineData("2", 2, 0)]
    [InlineData("1.1", 1, 1)]
    public void HttpVersion_2Or11_IsAccepted_AndIsTheVersionTheCallsAskFor(string setting, int major, int minor)
    {
        var o = new StoreOptions { HttpVersion = setting };
        Assert.Empty(Errors(o));
        Assert.Equal(new Version(major, minor), o.EffectiveHttpVersion);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("1.0")]
    [InlineData("")]
    public void HttpVersion_OtherThan2Or11_NamesTheKey(string setting) =>
        Assert.Contains("Store:HttpVersion must be 1.1 or 2.", Errors(new StoreOptions { HttpVersion = setting }));

    [Fact]
    public void HttpVersion_DefaultsTo2() => Assert.Equal(new Version(2, 0), new StoreOptions().EffectiveHttpVersion);

    [Fact]
    public void ManagedIdentity_NeedsNoSecretAndNoAuthority()
    {
        var o = new StoreOptions { Credential = StoreCredential.ManagedIdentity, ClientId = "app" };
        Assert.Equal(StoreMode.Live, o.EffectiveMode);
        Assert.Empty(Errors(o));
    }

    [Fact]
    public void AnExplicitSecretCredential_WithoutASecret_NamesTheKey()
    {
        var o = new StoreOptions { Mode = StoreMode.Live, Credential = StoreCredential.Secret, ClientId = "app", TenantId = "t" };
        Assert.Contains(Errors(o), e => e.StartsWith("Store:ClientSecret is required when Store:Credential is Secret", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutACredential_ACertificatePathMeansCertificate_ElseSecret()
    {
        Assert.Equal(StoreCredential.Certificate, new StoreOptions { CertificatePath = "x.pfx" }.EffectiveCredential);
        Assert.Equal(StoreCredential.Secret, new StoreOptions { ClientSecret = "s" }.EffectiveCredential);
    }

    [Fact]
    public void WorkloadIdentity_TakesTheWebhooksEnvironmentVariables_WhenItsKeysAreUnset()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AZURE_CLIENT_ID"] = "from-webhook", ["AZURE_TENANT_ID"] = "tenant", ["AZURE_FEDERATED_TOKEN_FILE"] = "/var/run/token",
        }).Build();
        var o = new StoreOptions { Credential = StoreCredential.WorkloadIdentity, ClientId = "explicit" };

        new StoreOptionsWorkloadDefaults(configuration).PostConfigure(null, o);

        Assert.Equal(("explicit", "tenant", "/var/run/token"), (o.ClientId, o.TenantId, o.FederatedTokenFile));
        var secret = new StoreOptions { ClientSecret = "s" };
        new StoreOptionsWorkloadDefaults(configuration).PostConfigure(null, secret);
        Assert.Null(secret.ClientId);
    }

    [Theory]
    [InlineData("https://onestore.microsoft.com/.default", "https://onestore.microsoft.com")]
    [InlineData("https://onestore.microsoft.com/b2b/keys/create/collections/.default", "https://onestore.microsoft.com/b2b/keys/create/collections")]
    [InlineData("https://onestore.microsoft.com", "https://onestore.microsoft.com")]
    public void ManagedIdentity_AsksForTheScopesResource(string scope, string resource) =>
        Assert.Equal(resource, StoreTokenSources.Resource(scope));

    private static StoreOptions LiveWithSecret() => new() { ClientId = "app", ClientSecret = "secret", TenantId = "tenant" };

    [Fact]
    public void Live_WithTheDefaults_HasNoErrors() => Assert.Empty(Errors(LiveWithSecret()));

    [Theory]
    [InlineData("https://login.microsoftonline.com/")]
    [InlineData("https://login.microsoftonline.com")]
    [InlineData(" https://login.microsoftonline.com/tenant")]
    [InlineData("https://login.microsoftonline.com/tenant ")]
    [InlineData("https://user:pass@login.microsoftonline.com/tenant")]
    [InlineData("https://login.microsoftonline.com/tenant?x=1")]
    [InlineData("https://login.microsoftonline.com/tenant#f")]
    [InlineData("http://login.microsoftonline.com/tenant")]
    public void Authority_WithoutATenant_OrWithSpacesCredentialsQueryOrClearText_NamesTheKey(string authority)
    {
        var o = LiveWithSecret();
        o.Authority = authority;
        Assert.Contains(Errors(o), e => e.StartsWith("Store:Authority must be", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://login.microsoftonline.com/tenant")]
    [InlineData("https://127.0.0.1:5443/emulator")]
    public void Authority_NamingATenant_IsAccepted(string authority)
    {
        var o = LiveWithSecret();
        o.Authority = authority;
        Assert.Empty(Errors(o));
    }

    [Theory]
    [InlineData("http://store.example.com", false)]
    [InlineData("http://10.0.0.5:8080/store", false)]
    [InlineData("http://127.0.0.1:8080/store", true)]
    [InlineData("http://localhost:8080/store", true)]
    [InlineData("https://store.example.com", true)]
    public void CollectionsBaseUrl_InClearText_IsAcceptedOnlyToLoopback(string url, bool accepted)
    {
        var o = LiveWithSecret();
        o.CollectionsBaseUrl = url;
        Assert.Equal(accepted, !Errors(o).Any(e => e.StartsWith("Store:CollectionsBaseUrl", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("", "Store:ServiceScope must be")]
    [InlineData("https://onestore.microsoft.com", "Store:ServiceScope must be")]
    [InlineData(" https://onestore.microsoft.com/.default", "Store:ServiceScope must be")]
    [InlineData("https://onestore.microsoft.com/b2b/keys/create/collections/.default", "Store:CollectionsTicketScope must differ")]
    [InlineData("HTTPS://ONESTORE.MICROSOFT.COM/B2B/KEYS/CREATE/COLLECTIONS/.DEFAULT", "Store:CollectionsTicketScope must differ")]
    public void ServiceScope_MustBeADefaultScope_AndNeverTheTicketScope(string scope, string error)
    {
        var o = LiveWithSecret();
        o.ServiceScope = scope;
        Assert.Contains(Errors(o), e => e.StartsWith(error, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a uri/.default")]
    [InlineData("https://onestore.microsoft.com/b2b/keys/create/collections")]
    public void CollectionsTicketScope_MustBeADefaultScope(string scope)
    {
        var o = LiveWithSecret();
        o.CollectionsTicketScope = scope;
        Assert.Contains(Errors(o), e => e.StartsWith("Store:CollectionsTicketScope must be", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("zz", false)]
    [InlineData("0123456789abcdef0123456789ABCDEF01234567", true)]
    [InlineData("0123456789abcdef0123456789ABCDEF0123456", false)]
    [InlineData("0123456789abcdef0123456789ABCDEF012345678", false)]
    [InlineData("0123456789abcdef0123456789ABCDEF0123456g", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData(null, true)]
    [InlineData("", true)]
    public void TrustedCertificateThumbprint_IsFortyHexDigits(string? thumbprint, bool accepted)
    {
        var o = new StoreOptions { TrustedCertificateThumbprint = thumbprint };
        Assert.Equal(accepted, !Errors(o).Any(e => e.StartsWith("Store:TrustedCertificateThumbprint must be", StringComparison.Ordinal)));
        Assert.Equal(accepted, Thumbprints.IsSha1OrEmpty(thumbprint));
    }
}
