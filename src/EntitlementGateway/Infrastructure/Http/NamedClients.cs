namespace EntitlementGateway.Infrastructure.Http;

public static class NamedClients
{
    /// <summary>
    /// One <typeparamref name="TClient"/> for the process over the named client <paramref name="clientName"/>: its handler
    /// chain is built once, and a typed-client registration would make a client object and an HttpClient per resolve
    /// (and build its factory from compiled expression trees at start).
    /// </summary>
    public static IServiceCollection AddClientOnce<TClient>(this IServiceCollection services, string clientName) where TClient : class =>
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<TClient>(sp,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(clientName)));
}
