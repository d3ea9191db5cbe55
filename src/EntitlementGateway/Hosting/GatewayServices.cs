using EntitlementGateway.Entitlements;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using EntitlementGateway.Store.Resilience;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Hosting;

/// <summary>The composition of the gateway, one concern per method; Program.cs calls them in order.</summary>
public static class GatewayServices
{
    /// <summary>Problem details everywhere, with unreadable bodies reported as 4xx.</summary>
    public static IServiceCollection AddGatewayProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                401 => "A valid token is required: Authorization: Bearer <token>, not expired and for this API's audience.",
                403 => "The token is valid but does not allow this request.",
                404 => "No endpoint at this path; see /swagger for the API.",
                405 => "This path does not accept that method; see /swagger for the API.",
                415 => "The body must be JSON (Content-Type: application/json).",
                _ => null,
            };
            context.ProblemDetails.Extensions.TryAdd("code", context.ProblemDetails.Status switch
            {
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not_found",
                405 => "method_not_allowed",
                >= 500 => "internal_error",
                _ => "invalid_request",
            });
        });
        services.AddExceptionHandler<GatewayExceptionHandler>();
        // Without this, a body that fails to bind is answered with an empty 400 outside Development.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, Api.ApiJsonContext.Default));
        return services;
    }

    /// <summary>The Store side: options, endpoints (Live or the embedded emulator), MSAL tokens, the Collections client.</summary>
    public static WebApplicationBuilder AddStore(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StoreOptions>().BindConfiguration(StoreOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>();
        services.TryAddSingletonTimeProvider();

        var configured = builder.Configuration.GetSection(StoreOptions.Section).Get<StoreOptions>() ?? new StoreOptions();
        if (configured.EffectiveMode == StoreMode.Emulator) services.AddEmbeddedStoreEmulator(builder.Configuration);
        else services.AddSingleton<IStoreEndpoints, LiveStoreEndpoints>();

        services.AddSingleton<IStoreTokenProvider, MsalStoreTokenProvider>();
        services.AddHttpClient(MsalStoreTokenProvider.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => StoreTls.CreateHandler(sp.GetRequiredService<IStoreEndpoints>()));
        services.AddSingleton<StoreCredentialsMonitor>();
        services.AddHealthChecks().AddCheck<StoreCredentialsHealthCheck>("store-credentials", tags: [HealthSetup.ReadyTag]);
        services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ResilienceOptions>, ResilienceOptionsValidator>();
        services.AddSingleton<StoreResiliencePipelines>();
        services.AddTransient<StoreResilienceHandler>();
        // The pipeline's total timeout bounds a query page; HttpClient's own timeout is only a backstop behind it.
        services.AddHttpClient<CollectionsClient>((sp, client) =>
            {
                client.Timeout = sp.GetRequiredService<IOptions<ResilienceOptions>>().Value.TotalTimeout + TimeSpan.FromSeconds(5);
                client.DefaultRequestHeaders.UserAgent.Add(StoreWire.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(sp => StoreTls.CreateHandler(sp.GetRequiredService<IStoreEndpoints>()))
            .AddHttpMessageHandler<StoreResilienceHandler>();
        services.AddHttpClient<UserCollectionsKeysClient>((sp, client) =>
            {
                client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<StoreOptions>>().Value.TimeoutSeconds);
                client.DefaultRequestHeaders.UserAgent.Add(StoreWire.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(sp => StoreTls.CreateHandler(sp.GetRequiredService<IStoreEndpoints>()));
        services.AddSingleton<UcidValidator>();
        return builder;
    }

    /// <summary>The query orchestration, the result cache (L2 in Redis when configured) and the default catalog.</summary>
    public static IServiceCollection AddEntitlements(this IServiceCollection services)
    {
        services.AddOptions<CatalogOptions>().BindConfiguration(CatalogOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CatalogOptions>, CatalogOptionsValidator>();
        services.AddOptions<CacheOptions>().BindConfiguration(CacheOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CacheOptions>, CacheOptionsValidator>();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ResultCache>(sp,
            sp.GetService<RedisConnection>() is { } redis ? [redis] : []));
        services.AddSingleton<CachedEntitlementQueries>();
        services.AddScoped<EntitlementQueryService>();
        return services;
    }

    /// <summary>Middleware in order: request logging around everything, errors, the size limits, then security.</summary>
    public static WebApplication UseGatewayPipeline(this WebApplication app)
    {
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestLimitsMiddleware>();
        app.UseGatewaySecurity();
        return app;
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
    }
}
