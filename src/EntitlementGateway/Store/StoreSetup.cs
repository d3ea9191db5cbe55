using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Infrastructure.Redis;
using EntitlementGateway.Infrastructure.Telemetry;
using EntitlementGateway.Store.Replicas;
using EntitlementGateway.Emulator;
using EntitlementGateway.Infrastructure;
using EntitlementGateway.Store.Resilience;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Store;

/// <summary>
/// Everything that speaks to the Store, registered in one place: where it lives (the real Store, or the embedded
/// emulator in Emulator mode, whose endpoints are then also mapped at <c>/emulator</c>), MSAL tokens, the resilience
/// handler, and the typed clients.
/// </summary>
public static class StoreSetup
{
    /// <summary>The Store side: options, endpoints (Live or the embedded emulator), MSAL tokens, the Collections client.</summary>
    public static WebApplicationBuilder AddStore(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<StoreOptions, StoreOptionsValidator>(StoreOptions.Section);
        services.AddSingleton<IPostConfigureOptions<StoreOptions>, StoreOptionsWorkloadDefaults>();
        if (services.All(d => d.ServiceType != typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);

        // The one place that decides which Store the gateway talks to, from the validated options (Production refuses
        // Emulator mode there): the real Store, or the emulator in this process.
        services.AddValidatedOptions<EmulatorOptions, EmulatorOptionsValidator>(EmulatorOptions.SectionName);
        services.AddSingleton<LiveStoreLocator>();
        // One state for both of the emulator's listeners: what a curl on the gateway's port seeds is what the gateway's
        // Store calls see. Built only in Emulator mode; the container disposes it.
        services.AddSingleton(sp => new EmulatorState(sp.GetRequiredService<IOptions<EmulatorOptions>>().Value));
        services.AddSingleton<EmbeddedStoreEmulator>();
        services.AddSingleton<IStoreLocator>(sp => IsEmulatorMode(sp)
            ? sp.GetRequiredService<EmbeddedStoreEmulator>()
            : sp.GetRequiredService<LiveStoreLocator>());
        services.AddHostedService<EmbeddedStoreEmulator.Starter>();
        services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration("store",
            sp => new StoreCircuitHealthCheck((Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck)sp.GetRequiredService<IStoreLocator>(),
                sp.GetRequiredService<Resilience.StoreResiliencePipelines>()), null, [HealthTags.Ready]));

        // The factory's own request logging puts every header in its structured values (the service token in
        // Authorization, a managed identity's secret header), however the text redacts them: off for every client.
        // The gateway logs each outgoing call itself.
        services.ConfigureHttpClientDefaults(client => client.RemoveAllLoggers());
        services.AddSingleton<IStoreTokenProvider, MsalStoreTokenProvider>();
        services.AddHostedService<StoreTokenAtStart>();
        // A token answer is a few KB: a huge one (a broken or hostile endpoint) is refused before it is held in memory.
        services.AddHttpClient(MsalStoreTokenProvider.HttpClientName, client => client.MaxResponseContentBufferSize = MsalStoreTokenProvider.MaxAnswerBytes)
            .ConfigurePrimaryHttpMessageHandler(sp => StoreTls.CreateHandler(sp.GetRequiredService<IStoreLocator>()));
        services.AddSingleton<StoreCredentialsMonitor>();
        services.AddSingleton<StoreHealth>();
        services.AddValidatedOptions<ReplicaHealthOptions, ReplicaHealthOptionsValidator>(ReplicaHealthOptions.Section);
        services.AddSingleton(sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisOptions>>();
            return new ReplicaHealthStore(sp.GetRequiredService<IOptions<ReplicaHealthOptions>>(), redis, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ReplicaHealthStore>>(), redis.Value.Configured ? sp.GetRequiredService<RedisConnection>() : null,
                sp.GetService<GatewayMetrics>());
        });
        services.AddHostedService<ReplicaHealthPublisher>();
        services.AddHealthChecks().AddCheck<StoreCredentialsHealthCheck>("store-credentials", tags: [HealthTags.Ready]);
        services.AddValidatedOptions<ResilienceOptions, ResilienceOptionsValidator>(ResilienceOptions.Section);
        services.AddSingleton<StoreResiliencePipelines>();
        services.AddTransient<StoreResilienceHandler>();
        services.AddSingleton<UnprovenCallGate>();
        services.AddSingleton<StoreConnectionPool>();
        // The pipeline's total timeout bounds a query page; HttpClient's own timeout is only a backstop behind it.
        // A named client (the name a typed client would get), made once below.
        services.AddHttpClient(nameof(CollectionsClient), (sp, client) =>
            {
                client.Timeout = sp.GetRequiredService<IOptions<ResilienceOptions>>().Value.TotalTimeout + TimeSpan.FromSeconds(5);
                client.DefaultRequestHeaders.UserAgent.Add(StoreWire.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<StoreConnectionPool>().CreateHandler())
            .AddHttpMessageHandler<StoreResilienceHandler>()
            // The pool renews its connections itself (PooledConnectionLifetime, and when they stall): no need to rebuild it.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // Every call is logged once with its Store ids (CollectionsClient); the factory's own per-call scope and lines
            // (filtered out at Warning anyway) only cost.
            .RemoveAllLoggers();
        services.AddClientOnce<CollectionsClient>(nameof(CollectionsClient));
        services.AddHttpClient<UserCollectionsKeysClient>((sp, client) =>
            {
                client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<StoreOptions>>().Value.TimeoutSeconds);
                client.DefaultRequestHeaders.UserAgent.Add(StoreWire.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(sp => StoreTls.CreateHandler(sp.GetRequiredService<IStoreLocator>()));
        services.AddSingleton<AcceptedUcids>();
        services.AddSingleton<UcidValidator>();
        services.AddSingleton<StoreFailurePolicy>();
        return builder;
    }

    internal static bool IsEmulatorMode(IServiceProvider services) =>
        services.GetRequiredService<IOptions<StoreOptions>>().Value.EffectiveMode == StoreMode.Emulator;

    /// <summary>Serves <c>/emulator/*</c> on the gateway's port when the emulator is embedded.</summary>
    public static WebApplication MapStore(this WebApplication app)
    {
        if (IsEmulatorMode(app.Services))
            Emulator.EmulatorServiceCollectionExtensions.MapStoreEmulator(app);
        return app;
    }
}
