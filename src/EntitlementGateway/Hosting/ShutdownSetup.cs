using Microsoft.Extensions.Diagnostics.HealthChecks;
using EntitlementGateway.Infrastructure;

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
    public const string Section = "Hosting";
    public const int DefaultShutdownTimeoutSeconds = 25;

    public static WebApplicationBuilder AddGracefulShutdown(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(Section);
        var timeoutSeconds = section.GetValue("ShutdownTimeoutSeconds", DefaultShutdownTimeoutSeconds);
        var delaySeconds = section.GetValue("ShutdownDelaySeconds", 0);
        if (timeoutSeconds is < 1 or > 3600)
            throw new InvalidOperationException("Hosting:ShutdownTimeoutSeconds must be between 1 and 3600.");
        if (delaySeconds < 0 || delaySeconds >= timeoutSeconds)
            throw new InvalidOperationException("Hosting:ShutdownDelaySeconds must be 0 or more and less than Hosting:ShutdownTimeoutSeconds.");

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(timeoutSeconds));
        builder.Services.AddSingleton(new ShutdownDelay(TimeSpan.FromSeconds(delaySeconds)));
        builder.Services.AddHostedService<ShutdownDelay.Service>();
        builder.Services.AddHealthChecks().AddCheck<StoppingHealthCheck>("shutdown", tags: [HealthTags.Ready]);
        return builder;
    }
}

/// <summary>Unhealthy from the moment the host begins to stop: the load balancer drains this replica.</summary>
public sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime, ShutdownDelay delay) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested || delay.Draining
            ? HealthCheckResult.Unhealthy("Shutting down: finishing the requests in flight, taking no new ones.")
            : HealthCheckResult.Healthy("Accepting requests."));
}

/// <summary>How long the gateway keeps serving after the stop signal, while reporting not ready (0: none).</summary>
public sealed class ShutdownDelay(TimeSpan delay)
{
    private volatile bool _draining;

    public TimeSpan Delay => delay;

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
            delay._draining = true;
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
