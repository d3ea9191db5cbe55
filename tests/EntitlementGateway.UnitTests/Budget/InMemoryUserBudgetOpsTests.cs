using EntitlementGateway.Budget;
using EntitlementGateway.UnitTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.UnitTests.Budget;

/// <summary>An operator's reset and lift-block on the in-memory budget.</summary>
public sealed class InMemoryUserBudgetOpsTests
{
    private const int Limit = 3;
    private readonly ManualTimeProvider _time = new();
    private readonly InMemoryUserBudget _budget;

    public InMemoryUserBudgetOpsTests() =>
        _budget = new InMemoryUserBudget(Options.Create(new BudgetOptions { Limit = Limit, WindowSeconds = 60, SafetyMarginMs = 0 }), _time);

    [Fact]
    public async Task Reset_ForgetsEveryUnitAndTheBlock_AndTheKeyItself()
    {
        for (var i = 0; i < Limit; i++) Assert.True((await _budget.TryAcquireAsync("u")).Allowed);
        await _budget.BlockUntilAsync("u", _time.GetUtcNow().AddMinutes(5));
        await _budget.TryAcquireAsync("other");

        await _budget.ResetAsync("u");

        var snapshot = await _budget.GetAsync("u");
        Assert.Equal(0, snapshot.Used);
        Assert.Null(snapshot.BlockedUntil);
        Assert.Equal(1, _budget.KeyCount); // only "other" is held
        var again = await _budget.TryAcquireAsync("u");
        Assert.True(again.Allowed);
        Assert.Equal(Limit - 1, again.Remaining);
        Assert.Equal(1, (await _budget.GetAsync("other")).Used);
    }

    [Fact]
    public async Task Reset_OfAnUnknownKey_ChangesNothing()
    {
        await _budget.TryAcquireAsync("other");
        await _budget.ResetAsync("nobody");
        Assert.Equal(1, _budget.KeyCount);
        Assert.Equal(1, (await _budget.GetAsync("other")).Used);
    }

    [Fact]
    public async Task Unblock_LiftsTheBlock_AndKeepsTheUnits()
    {
        Assert.True((await _budget.TryAcquireAsync("u")).Allowed);
        await _budget.BlockUntilAsync("u", _time.GetUtcNow().AddMinutes(5));
        Assert.False((await _budget.TryAcquireAsync("u")).Allowed);

        await _budget.UnblockAsync("u");
        await _budget.UnblockAsync("nobody");

        var snapshot = await _budget.GetAsync("u");
        Assert.Null(snapshot.BlockedUntil);
        Assert.Equal(1, snapshot.Used);
        var next = await _budget.TryAcquireAsync("u");
        Assert.True(next.Allowed);
        Assert.Equal(Limit - 2, next.Remaining);
        Assert.Equal(1, _budget.KeyCount);
    }

    [Fact]
    public async Task Reset_ThenAcquire_UsesAFreshLog_NotTheRetiredOne()
    {
        await _budget.TryAcquireAsync("u");
        await _budget.ResetAsync("u");
        await _budget.ResetAsync("u"); // a second reset finds nothing to retire
        await _budget.TryAcquireAsync("u");
        Assert.Equal(1, (await _budget.GetAsync("u")).Used);
        Assert.Equal(1, _budget.KeyCount);
    }
}
