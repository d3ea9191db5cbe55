using EntitlementGateway.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Graceful shutdown. On SIGTERM the host fires <c>ApplicationStopping</c>: from that moment <c>/health/ready</c> answers
/// Unhealthy (503) so load balancers stop sending new requests; optionally the gateway keeps serving for
/// <c>Hosting:ShutdownDelaySeconds</c> while they notice; then Kestrel stops accepting connections and waits for the
/// requests in flight, up to <c>Hosting:ShutdownTimeoutSeconds</c> in all, and the process exits 0.
/// On Kubernetes, a <c>preStop</c> sleep plays the delay's part and <c>terminationGracePeriodSeconds</c> must exceed
/// the preStop sleep plus the shutdown timeout.
/// </summary>
public static class ShutdownSetup
{
    public static WebApplicationBuilder AddGracefulShutdown(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<HostingOptions, HostingOptionsValidator>(HostingOptions.Section);
        // Read through the validated options: a bad value stops the start with the key's name.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<HostingOptions>>((host, hosting) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(hosting.Value.ShutdownTimeoutSeconds));
        builder.Services.AddSingleton(sp =>
        {
            var hosting = sp.GetRequiredService<IOptions<HostingOptions>>().Value;
            return new ShutdownDelay(TimeSpan.FromSeconds(hosting.ShutdownDelaySeconds), TimeSpan.FromSeconds(hosting.ShutdownTimeoutSeconds));
        });
        builder.Services.AddHostedService<ShutdownDelay.Service>();
        builder.Services.AddHealthChecks().AddCheck<StoppingHealthCheck>("shutdown", tags: [HealthTags.Ready]);
        return builder;
    }
}

/// <summary>Graceful shutdown settings (section <c>Hosting</c>).</summary>
public sealed class HostingOptions
{
    public const string Section = "Hosting";

    /// <summary>On SIGTERM, how long requests in flight may take to finish.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 25;

    /// <summary>On SIGTERM, how long to keep serving while readiness says 503 (for balancers without a preStop hook).</summary>
    public int ShutdownDelaySeconds { get; set; }

    /// <summary>How often glibc's heap gives its free pages back to the system (0: never); see <see cref="NativeHeapTrimmer"/>.</summary>
    public int NativeHeapTrimSeconds { get; set; } = 30;
}

public sealed class HostingOptionsValidator : IValidateOptions<HostingOptions>
{
    public ValidateOptionsResult Validate(string? name, HostingOptions o) => new OptionsErrors(HostingOptions.Section)
        .Range(nameof(o.ShutdownTimeoutSeconds), o.ShutdownTimeoutSeconds, 1, 3600)
        .Require(o.ShutdownDelaySeconds >= 0 && o.ShutdownDelaySeconds < o.ShutdownTimeoutSeconds,
            "Hosting:ShutdownDelaySeconds must be 0 or more and less than Hosting:ShutdownTimeoutSeconds.")
        .Range(nameof(o.NativeHeapTrimSeconds), o.NativeHeapTrimSeconds, 0, 3600)
        .Result;
}

/// <summary>Unhealthy from the moment the host begins to stop: the load balancer drains this replica.</summary>
public sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime, ShutdownDelay delay) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested || delay.Draining
            ? HealthCheckResult.Unhealthy("Shutting down: finishing the requests in flight, taking no new ones.")
            : HealthCheckResult.Healthy("Accepting requests."));
}

/// <summary>
/// How long the gateway keeps serving after the stop signal, while reporting not ready (0: none), and when the requests
/// still in flight stop waiting (<see cref="DrainDeadline"/>).
/// </summary>
public sealed class ShutdownDelay(TimeSpan delay, TimeSpan? shutdownTimeout = null)
{
    private readonly CancellationTokenSource _deadline = new();
    private volatile bool _draining;

    public TimeSpan Delay => delay;

    /// <summary>
    /// Cancelled <see cref="Margin"/> before the shutdown timeout ends. At the timeout the server cuts every connection
    /// still open: a request waiting on the Store then gets a reset, not an answer. Work that watches this token gives up
    /// first, so the request still answers (503 with Retry-After) in the time left.
    /// </summary>
    public CancellationToken DrainDeadline => _deadline.Token;

    /// <summary>The time kept to answer after <see cref="DrainDeadline"/>: a fifth of the timeout, from 0.5 s to 2 s.</summary>
    internal static TimeSpan Margin(TimeSpan timeout) =>
        TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 5, TimeSpan.TicksPerMillisecond * 500, TimeSpan.TicksPerSecond * 2));

    private void BeginDraining()
    {
        _draining = true;
        if (shutdownTimeout is { } timeout) _deadline.CancelAfter(timeout - Margin(timeout));
    }

    /// <summary>
    /// Set when the host begins to stop. <c>ApplicationStopping</c> says so too on SIGTERM (the console lifetime fires it
    /// first), but a host stopped by <c>StopAsync</c> calls <see cref="IHostedLifecycleService.StoppingAsync"/> before it.
    /// </summary>
    public bool Draining => _draining;

    /// <summary>
    /// Runs before the server stops (<see cref="IHostedLifecycleService.StoppingAsync"/> comes before every hosted
    /// service's <c>StopAsync</c>, Kestrel's included), bounded by the shutdown timeout's token.
    /// </summary>
    internal sealed class Service(ShutdownDelay delay) : IHostedLifecycleService
    {
        public async Task StoppingAsync(CancellationToken cancellationToken)
        {
            delay.BeginDraining();
            if (delay.Delay <= TimeSpan.Zero) return;
            try { await Task.Delay(delay.Delay, cancellationToken); }
            catch (OperationCanceledException) { }
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
