using EntitlementGateway.Budget;
using Polly.CircuitBreaker;

namespace EntitlementGateway.Store.Resilience;

/// <summary>
/// Runs the Store call through <see cref="StoreResiliencePipelines"/>, taking one budget unit before every attempt
/// (retries included) when the request carries a <see cref="StoreAttemptBudget"/>. A refused unit ends the call with
/// <see cref="StoreBudgetRefusedException"/>: no Store call and no retry. A unit taken for an attempt the circuit then
/// refused goes back.
/// </summary>
public sealed class StoreResilienceHandler(StoreResiliencePipelines pipelines, IUserBudget budget) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.TryGetValue(StoreAttemptBudget.OptionKey, out var attemptBudget);
        return await pipelines.Outer.ExecuteAsync(
            async token => await AttemptAsync(request, attemptBudget, token), cancellationToken);
    }

    private async Task<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, StoreAttemptBudget? attemptBudget, CancellationToken cancellationToken)
    {
        string? lease = null;
        // Open circuit: let it refuse at once, without a budget round trip.
        if (attemptBudget is not null && !pipelines.CircuitRefusesCalls)
            lease = await AcquireAsync(attemptBudget, cancellationToken);
        try
        {
            return await pipelines.Inner.ExecuteAsync(async token =>
            {
                // The circuit closed between the check and here: the attempt still pays first.
                if (attemptBudget is not null && lease is null) lease = await AcquireAsync(attemptBudget, token);
                return await base.SendAsync(request, token);
            }, cancellationToken);
        }
        catch (BrokenCircuitException) when (lease is not null && attemptBudget is not null)
        {
            // Half-open with its one trial call already out: this attempt never reached the Store.
            await budget.RefundAsync(attemptBudget.Key, lease, CancellationToken.None);
            attemptBudget.UnitsTaken--;
            throw;
        }
    }

    private async Task<string> AcquireAsync(StoreAttemptBudget attemptBudget, CancellationToken cancellationToken)
    {
        var decision = await budget.TryAcquireAsync(attemptBudget.Key, cancellationToken);
        attemptBudget.Record(decision);
        if (!decision.Allowed) throw new StoreBudgetRefusedException(decision);
        return decision.Lease!;
    }
}
