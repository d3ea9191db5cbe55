using EntitlementGateway.Clawback;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace EntitlementGateway.UnitTests.Clawback;

public sealed class ClawbackOptionsTests
{
    private static ClawbackOptions Valid() => new()
    {
        Enabled = true, WebhookUrl = "https://studio.example/hooks/clawback", WebhookSecret = new string('s', 32),
    };

    private static IEnumerable<string> Errors(ClawbackOptions o, string environment = "Production") =>
        new ClawbackOptionsValidator(new Env(environment)).Validate(null, o).Failures ?? [];

    [Fact]
    public void Enabled_WithAnHttpsReceiverAndASecret_IsValid() => Assert.Empty(Errors(Valid()));

    [Fact]
    public void Disabled_NeedsNoReceiver() => Assert.Empty(Errors(new ClawbackOptions()));

    [Theory]
    [InlineData(null)]
    [InlineData("/relative")]
    [InlineData("ftp://studio.example/x")]
    [InlineData("http://studio.example/x")]
    [InlineData("https://user:pw@studio.example/x")]
    public void Enabled_WithoutAnHttpsReceiver_NamesWebhookUrl(string? url) =>
        Assert.Contains(Errors(Valid().With(o => o.WebhookUrl = url)), e => e.StartsWith("Clawback:WebhookUrl", StringComparison.Ordinal));

    [Theory]
    [InlineData("http://127.0.0.1:5000/x", "Development", true)]
    [InlineData("http://localhost:5000/x", "Testing", true)]
    [InlineData("http://[::1]:5000/x", "Development", true)]
    [InlineData("http://127.0.0.1:5000/x", "Production", false)]
    [InlineData("http://10.0.0.1/x", "Development", false)]
    public void HttpReceiver_OnlyOnLoopbackOutsideProduction(string url, string environment, bool allowed) =>
        Assert.Equal(allowed, ClawbackOptionsValidator.WebhookUrlAllowed(url, environment == "Production"));

    [Fact]
    public void Enabled_WithAShortSecret_NamesWebhookSecret() =>
        Assert.Contains(Errors(Valid().With(o => o.WebhookSecret = new string('s', 31))), e => e.StartsWith("Clawback:WebhookSecret", StringComparison.Ordinal));

    [Fact]
    public void OutOfRangeNumbers_AreNamed()
    {
        var errors = Errors(Valid().With(o => { o.BatchSize = 33; o.VisibilityTimeoutSeconds = 1; o.WebhookRetryMaxSeconds = 1; }));
        Assert.Contains(errors, e => e.StartsWith("Clawback:BatchSize", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Clawback:VisibilityTimeoutSeconds", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Clawback:WebhookRetryMaxSeconds", StringComparison.Ordinal));
    }

    [Fact]
    public void RetryDelay_DoublesFromTheBase_UpToTheMaximum()
    {
        var o = new ClawbackOptions { WebhookRetryBaseSeconds = 2, WebhookRetryMaxSeconds = 10 };
        Assert.Equal([2, 4, 8, 10, 10], new[] { 1, 2, 3, 4, 1000 }.Select(n => o.RetryDelay(n).TotalSeconds));
    }

    private sealed class Env(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "test";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

internal static class OptionsExtensions
{
    public static ClawbackOptions With(this ClawbackOptions o, Action<ClawbackOptions> change)
    {
        change(o);
        return o;
    }
}
