using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Infrastructure.Telemetry;

/// <summary>Metrics, traces and their export, registered in one place.</summary>
public static class TelemetrySetup
{
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());
        services.AddOptions<TelemetryOptions>().Configure<IConfiguration>((options, configuration) => configuration.Bind(options)).ValidateOnStart();
        services.AddSingleton(new OptionsSection("OTEL", typeof(TelemetryOptions)));
        services.AddHostedService<TelemetryExport>();
        return services;
    }
}
