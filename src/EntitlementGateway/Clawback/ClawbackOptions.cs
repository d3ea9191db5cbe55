using System.Net;
using EntitlementGateway.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Clawback;

/// <summary>Refunds and chargebacks (section <c>Clawback</c>): the Store's Clawback v2 queue and the studio's webhook.</summary>
public sealed class ClawbackOptions
{
    public const string Section = "Clawback";

    /// <summary>Runs the queue reader and the webhook sender, and records the order ids the gateway sees.</summary>
    public bool Enabled { get; set; }
    /// <summary>Where <c>POST /v8.0/b2b/clawback/sastoken</c> lives (Live mode; the embedded emulator serves its own).</summary>
    public string PurchaseBaseUrl { get; set; } = "https://purchase.mp.microsoft.com";
    /// <summary>Pause between two reads of an empty queue.</summary>
    public double PollIntervalSeconds { get; set; } = 5;
    /// <summary>Messages per Get Messages call (Azure allows 1 to 32).</summary>
    public int BatchSize { get; set; } = 16;
    /// <summary>How long a read message stays hidden from other readers; also the processing lease of its event.</summary>
    public int VisibilityTimeoutSeconds { get; set; } = 60;
    /// <summary>How long an order id seen in an answer (or a consume) keeps pointing at its player.</summary>
    public int OrderRetentionDays { get; set; } = 90;
    /// <summary>How long handled events stay in <c>GET /ops/clawback/events</c> (and de-duplicate a redelivered event).</summary>
    public int EventRetentionDays { get; set; } = 90;
    /// <summary>The studio's receiver; https, or http on a loopback address outside Production.</summary>
    public string? WebhookUrl { get; set; }
    /// <summary>The HMAC-SHA256 key of the webhook signature; at least 32 characters.</summary>
    public string? WebhookSecret { get; set; }
    /// <summary>Upper bound of one delivery attempt.</summary>
    public int WebhookTimeoutSeconds { get; set; } = 10;
    /// <summary>Wait after the first failed attempt; it doubles after each failure ...</summary>
    public double WebhookRetryBaseSeconds { get; set; } = 5;
    /// <summary>... up to this.</summary>
    public double WebhookRetryMaxSeconds { get; set; } = 600;
    /// <summary>After this long without an acknowledgement an event is Undeliverable (it stays in the ops API).</summary>
    public double WebhookGiveUpHours { get; set; } = 72;

    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollIntervalSeconds);
    public TimeSpan VisibilityTimeout => TimeSpan.FromSeconds(VisibilityTimeoutSeconds);
    public TimeSpan OrderRetention => TimeSpan.FromDays(OrderRetentionDays);
    public TimeSpan EventRetention => TimeSpan.FromDays(EventRetentionDays);
    public TimeSpan WebhookTimeout => TimeSpan.FromSeconds(WebhookTimeoutSeconds);
    public TimeSpan WebhookGiveUp => TimeSpan.FromHours(WebhookGiveUpHours);

    /// <summary>The wait before the next attempt after <paramref name="failures"/> failed ones (1 or more).</summary>
    public TimeSpan RetryDelay(int failures) =>
        TimeSpan.FromSeconds(Math.Min(WebhookRetryMaxSeconds, WebhookRetryBaseSeconds * Math.Pow(2, Math.Min(failures - 1, 30))));
}

public sealed class ClawbackOptionsValidator(IHostEnvironment environment) : IValidateOptions<ClawbackOptions>
{
    public ValidateOptionsResult Validate(string? name, ClawbackOptions o)
    {
        var errors = new OptionsErrors(ClawbackOptions.Section)
            .Range(nameof(o.PollIntervalSeconds), o.PollIntervalSeconds, 0.05, 3600)
            .Range(nameof(o.BatchSize), o.BatchSize, 1, 32)
            .Range(nameof(o.VisibilityTimeoutSeconds), o.VisibilityTimeoutSeconds, 5, 3600)
            .Range(nameof(o.OrderRetentionDays), o.OrderRetentionDays, 1, 3650)
            .Range(nameof(o.EventRetentionDays), o.EventRetentionDays, 1, 3650)
            .Range(nameof(o.WebhookTimeoutSeconds), o.WebhookTimeoutSeconds, 1, 120)
            .Range(nameof(o.WebhookRetryBaseSeconds), o.WebhookRetryBaseSeconds, 0.05, 3600)
            .Range(nameof(o.WebhookRetryMaxSeconds), o.WebhookRetryMaxSeconds, o.WebhookRetryBaseSeconds, 86_400)
            .Range(nameof(o.WebhookGiveUpHours), o.WebhookGiveUpHours, 0.01, 24 * 30);
        if (!o.Enabled) return errors.Result;
        errors.Require(Uri.TryCreate(o.PurchaseBaseUrl, UriKind.Absolute, out var purchase) &&
                       (purchase.Scheme == Uri.UriSchemeHttps || (!environment.IsProduction() && purchase.Scheme == Uri.UriSchemeHttp)),
                "Clawback:PurchaseBaseUrl must be an absolute https:// URL.");
        errors.Require(WebhookUrlAllowed(o.WebhookUrl, environment.IsProduction()),
            "Clawback:WebhookUrl is required with Clawback:Enabled: an absolute https:// URL (http:// only to a loopback address outside Production).");
        errors.Require(o.WebhookSecret is { Length: >= 32 }, "Clawback:WebhookSecret is required with Clawback:Enabled, at least 32 characters.");
        return errors.Result;
    }

    /// <summary>https anywhere; http only to loopback (a receiver beside the gateway in development and tests).</summary>
    public static bool WebhookUrlAllowed(string? url, bool production)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.UserInfo)) return false;
        if (uri.Scheme == Uri.UriSchemeHttps) return true;
        return uri.Scheme == Uri.UriSchemeHttp && !production &&
               (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));
    }
}
