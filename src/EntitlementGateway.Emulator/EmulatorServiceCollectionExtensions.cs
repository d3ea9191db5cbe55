using EntitlementGateway.Emulator.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Emulator;

/// <summary>Hosting the emulator inside any ASP.NET Core app, under <c>/emulator</c>.</summary>
public static class EmulatorServiceCollectionExtensions
{
    /// <summary>The path prefix of every emulator endpoint.</summary>
    public const string RoutePrefix = "/emulator";

    /// <summary>
    /// Registers the emulator with its own <see cref="EmulatorState"/>, built from <see cref="EmulatorOptions"/>
    /// (configure them here, or with <c>services.Configure&lt;EmulatorOptions&gt;(config.GetSection("Emulator"))</c>).
    /// </summary>
    public static IServiceCollection AddStoreEmulator(this IServiceCollection services, Action<EmulatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<EmulatorOptions>();
        if (configure is not null) builder.Configure(configure);
        services.AddSingleton(sp => new EmulatorState(sp.GetRequiredService<IOptions<EmulatorOptions>>().Value));
        return services;
    }

    /// <summary>
    /// Registers the emulator backed by an existing <paramref name="state"/>, so several hosts (for instance the
    /// gateway's own port and an <see cref="EmulatorServer"/> on HTTPS) serve the same users, stats and faults.
    /// The caller keeps ownership of <paramref name="state"/> and disposes it.
    /// </summary>
    public static IServiceCollection AddStoreEmulator(this IServiceCollection services, EmulatorState state)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(state);
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(state.Options));
        // Registered as an instance: the container does not dispose it, its owner does.
        services.AddSingleton(state);
        return services;
    }

    /// <summary>Maps every emulator endpoint under <c>/emulator</c>.</summary>
    public static IEndpointRouteBuilder MapStoreEmulator(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(RoutePrefix);
        // The emulator is a fake upstream: the host's auth, rate limiting and public API description must not apply to it.
        group.AllowAnonymous().ExcludeFromDescription();
        TokenEndpoints.Map(group);
        UserEndpoints.Map(group);
        AdminEndpoints.Map(group);
        ClawbackEndpoints.Map(group);
        // Everything under /emulator/store is a Store endpoint: audited, and held to the Store's request header table
        // (Content-Length, application/json) before faults, auth or anything else.
        var store = group.MapGroup("/store");
        store.AddEndpointFilter(StoreProtocol.InvokeAsync);
        CollectionsEndpoints.Map(store);
        ClawbackEndpoints.MapStore(store);
        store.MapFallback("{**path}", (HttpContext ctx) =>
            StoreHttp.Error(404, "NotFound", $"The emulator does not serve {ctx.Request.Method} {ctx.Request.Path}."));
        // A JSON 404 naming the path makes "which URL did MSAL / the gateway really call?" obvious.
        group.MapFallback("{**path}", (HttpContext ctx) =>
            StoreHttp.Error(404, "NotFound", $"The emulator does not serve {ctx.Request.Method} {ctx.Request.Path}."));
        return endpoints;
    }
}
