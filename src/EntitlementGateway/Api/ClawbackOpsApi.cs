using EntitlementGateway.Clawback;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Api;

/// <summary>The recorded refunds and chargebacks, under <c>/ops/clawback</c>: on with Ops:Enabled, behind the Ops policy.</summary>
public static class ClawbackOpsApi
{
    public const int MaxLimit = 500;

    public static WebApplication MapClawbackOpsApi(this WebApplication app)
    {
        // With refunds and chargebacks off there are no events to list: no endpoint (404), not an empty list that reads
        // as "none happened".
        if (!app.Services.GetRequiredService<IOptions<OpsOptions>>().Value.IsEnabled ||
            !app.Services.GetRequiredService<IOptions<Clawback.ClawbackOptions>>().Value.Enabled) return app;

        var group = app.MapGroup("/ops/clawback").WithTags("Operations").RequireAuthorization(OpsOptions.Policy);
        group.MapGet("/events", ListEventsAsync)
            .WithName("GetClawbackEvents")
            .WithSummary("Recorded refund and chargeback events, newest first")
            .WithDescription("Each event the Store queued (Clawback v2): its state and what it means, the player's budget key when the " +
                             "gateway had seen the order (playerKnown), and its webhook's delivery (Pending, Delivered, Undeliverable). " +
                             "player filters by budget key; limit is 1 to 500 (default 100).")
            .Produces<ClawbackEventList>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    internal static async Task<Results<Ok<ClawbackEventList>, ProblemHttpResult>> ListEventsAsync(
        IClawbackStore store, HttpContext http, CancellationToken cancellationToken, string? player = null, string? limit = null)
    {
        // The binder would take one of several values without a word (or join them): a repeated filter is ambiguous.
        foreach (var name in (string[])[nameof(player), nameof(limit)])
        {
            if (http.Request.Query[name].Count > 1)
                return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, $"The {name} is not valid.", $"{name} may be given once.");
        }
        if (player is not null && OpsApi.InvalidKey(player, nameof(player)) is { } invalid) return invalid;
        // Read here rather than bound as a number: the framework's refusal of "abc" or "1.5" says nothing of what is wrong.
        var count = 100;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxLimit))
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The limit is not valid.", $"limit must be a whole number between 1 and {MaxLimit}.");
        try
        {
            return TypedResults.Ok(new ClawbackEventList(await store.ListAsync(player, count, cancellationToken)));
        }
        catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException)
        {
            return GatewayProblems.Create(503, GatewayProblems.ClawbackUnavailable, "The clawback store is unavailable.", "Redis did not answer in time; retry shortly.");
        }
    }
}
