using EntitlementGateway.Store.Resilience;

namespace EntitlementGateway.UnitTests.Store.Resilience;

/// <summary>An attempt's number counts the tries at one page (a retry is 2 or more); the vector numbers every call of the query.</summary>
public class StoreCallStateTests
{
    [Fact]
    public void TheAttempt_CountsTriesAtThePage_WhileTheVectorCountsEveryCall()
    {
        var state = new StoreCallState("user-p", "base") { Page = 1 };
        var seen = new List<(int Page, int Attempt, string Vector)>();
        void Call()
        {
            var vector = state.NextCorrelationVector();
            seen.Add((state.Page, state.Attempt, vector));
        }

        Call();
        Call(); // page 1 retried
        state.Page = 2;
        Call();
        state.Page = 2; // the same page again: still its attempts
        Call();
        state.Page = 3;
        Call();

        Assert.Equal([(1, 1, "base.1"), (1, 2, "base.2"), (2, 1, "base.3"), (2, 2, "base.4"), (3, 1, "base.5")], seen);
    }

    [Fact]
    public void AnUnpagedCall_CountsItsAttemptsFromOne()
    {
        var state = new StoreCallState(null, "v");

        Assert.Equal(0, state.Attempt);
        state.NextCorrelationVector();
        Assert.Equal(1, state.Attempt);
        Assert.Equal(0, state.Page);
    }
}
