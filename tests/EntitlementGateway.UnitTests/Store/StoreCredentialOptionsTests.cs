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
}
