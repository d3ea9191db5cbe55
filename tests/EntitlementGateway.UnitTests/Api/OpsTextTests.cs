using Microsoft.AspNetCore.Http;
using EntitlementGateway.Api;
using EntitlementGateway.Clawback;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.UnitTests.Api;

/// <summary>What ops requests may put into the audit log and the clawback filter: one line, a budget key.</summary>
public sealed class OpsTextTests
{
    [Theory]
    [InlineData("TICKET-42 stuck player", true)]
    [InlineData("café – ticket 7", true)]
    [InlineData("two\nlines", false)]
    [InlineData("tab\there", false)]
    [InlineData("next\u0085line", false)]
    [InlineData("line\u2028separator", false)]
    [InlineData("paragraph\u2029separator", false)]
    [InlineData("bidi\u202Eoverride", false)]
    [InlineData("zero\u200Bwidth", false)]
    public void IsOneLine_RefusesControlsSeparatorsAndFormatCharacters(string text, bool oneLine) =>
        Assert.Equal(oneLine, OpsApi.IsOneLine(text));

    [Theory]
    [InlineData("user-a", null)]
    [InlineData("bogus", "player must be a budget key")]
    [InlineData("user-a\r\nX", "player must be 1 to 256 characters")]
    [InlineData("user-a\u2028b", "player must be 1 to 256 characters")]
    [InlineData("", "player must be 1 to 256 characters")]
    public async Task ClawbackEvents_PlayerFilter_IsABudgetKey(string player, string? refusal)
    {
        var result = (await ClawbackOpsApi.ListEventsAsync(new InMemoryClawbackStore(TimeProvider.System), new DefaultHttpContext(), CancellationToken.None, player)).Result;

        if (refusal is null)
        {
            Assert.IsType<Ok<ClawbackEventList>>(result);
            return;
        }
        var problem = Assert.IsType<ProblemHttpResult>(result);
        Assert.Equal(400, problem.StatusCode);
        Assert.StartsWith(refusal, problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?player=user-a&player=user-b", "player")]
    [InlineData("?limit=5&limit=6", "limit")]
    [InlineData("?player=user-a&limit=5&limit=5", "limit")]
    public async Task ClawbackEvents_ARepeatedFilter_IsRefusedNamingIt(string query, string name)
    {
        var http = new DefaultHttpContext { Request = { QueryString = new QueryString(query) } };
        var result = (await ClawbackOpsApi.ListEventsAsync(new InMemoryClawbackStore(TimeProvider.System), http, CancellationToken.None, "user-a", "5")).Result;

        var problem = Assert.IsType<ProblemHttpResult>(result);
        Assert.Equal(400, problem.StatusCode);
        Assert.Equal($"{name} may be given once.", problem.ProblemDetails.Detail);
    }

    [Fact]
    public async Task ClawbackEvents_EachFilterOnce_IsRead()
    {
        var http = new DefaultHttpContext { Request = { QueryString = new QueryString("?player=user-a&limit=5") } };
        Assert.IsType<Ok<ClawbackEventList>>((await ClawbackOpsApi.ListEventsAsync(new InMemoryClawbackStore(TimeProvider.System), http, CancellationToken.None, "user-a", "5")).Result);
    }
}
