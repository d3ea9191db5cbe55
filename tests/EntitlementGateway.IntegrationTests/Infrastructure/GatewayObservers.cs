using EntitlementGateway.Budget;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Watches what the gateway spends without changing it: every allowed budget unit and every Store call (query or renew)
/// the gateway's own HTTP clients send. The real in-memory budget and the real HTTP pipeline still do the work.
/// </summary>
public sealed class GatewayObservers
{
    private long _unitsTaken;
    private long _unitsRefunded;
    private long _storeCalls;

    public long UnitsTaken => Interlocked.Read(ref _unitsTaken);
    public long UnitsRefunded => Interlocked.Read(ref _unitsRefunded);
    public long StoreCalls => Interlocked.Read(ref _storeCalls);

    /// <summary>Installs the observers into a gateway's services (from ConfigureTestServices).</summary>
    public void Install(IServiceCollection services)
    {
        services.AddSingleton<InMemoryUserBudget>();
        services.AddSingleton<IUserBudget>(sp => new CountingBudget(sp.GetRequiredService<InMemoryUserBudget>(), this));
        services.ConfigureAll<HttpClientFactoryOptions>(options =>
            options.HttpMessageHandlerBuilderActions.Add(builder => builder.AdditionalHandlers.Insert(0, new StoreCallCounter(this))));
    }

    private sealed class CountingBudget(IUserBudget inner, GatewayObservers observers) : IUserBudget
    {
        public async ValueTask<BudgetDecision> TryAcquireAsync(string key, CancellationToken cancellationToken = default)
        {
            var decision = await inner.TryAcquireAsync(key, cancellationToken);
            if (decision.Allowed) Interlocked.Increment(ref observers._unitsTaken);
            return decision;
        }

        public ValueTask RefundAsync(string key, string lease, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref observers._unitsRefunded);
            return inner.RefundAsync(key, lease, cancellationToken);
        }

        public ValueTask BlockUntilAsync(string key, DateTimeOffset until, CancellationToken cancellationToken = default) =>
            inner.BlockUntilAsync(key, until, cancellationToken);

        public ValueTask<BudgetSnapshot> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public ValueTask ResetAsync(string key, CancellationToken cancellationToken = default) => inner.ResetAsync(key, cancellationToken);

        public ValueTask UnblockAsync(string key, CancellationToken cancellationToken = default) => inner.UnblockAsync(key, cancellationToken);
    }

    private sealed class StoreCallCounter(GatewayObservers observers) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri?.AbsolutePath ?? "";
            if (path.Contains("/collections/", StringComparison.Ordinal) || path.Contains("/b2b/keys/", StringComparison.Ordinal))
                Interlocked.Increment(ref observers._storeCalls);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
