using EntitlementGateway.Security;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Api;

/// <summary>What every game-client endpoint shares: its group's policies, and the problems it declares.</summary>
public static class GameClientEndpoints
{
    /// <summary>
    /// A group of game-client endpoints: the player's token when binding is on, and the per-client-IP limit when it is
    /// not 0. Decided from the validated options when the endpoints are mapped: a policy that admits everyone still
    /// costs its middleware a policy evaluation or a limiter lease on every request.
    /// </summary>
    public static RouteGroupBuilder MapGameClientGroup(this IEndpointRouteBuilder endpoints, string prefix, string tag)
    {
        var group = endpoints.MapGroup(prefix).WithTags(tag);
        var services = endpoints.ServiceProvider;
        if (IsOn<PlayerAuthOptions>(services, o => o.Enabled)) group.RequireAuthorization(PlayerAuthOptions.Policy);
        if (IsOn<ClientLimitsOptions>(services, o => o.PermitLimit > 0)) group.RequireRateLimiting(ClientLimitsOptions.Policy);
        return group;
    }

    // Invalid options stop the start-up anyway, with every bad key named (ValidateOnStart); they must not stop it here
    // first, naming only theirs.
    private static bool IsOn<T>(IServiceProvider services, Func<T, bool> on) where T : class
    {
        try
        {
            return on(services.GetRequiredService<IOptions<T>>().Value);
        }
        catch (OptionsValidationException)
        {
            return true;
        }
    }

    /// <summary>What an endpoint that calls the Store for a player answers besides 200: a bad body or credentials (400),
    /// an expired UCID, refused X-token or missing player token (401), another player's UCID (403), a body too large
    /// (413), and the Store-failure table.</summary>
    public static RouteHandlerBuilder ProducesPlayerStoreCall(this RouteHandlerBuilder builder) =>
        builder.ProducesStoreFailures(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized,
            StatusCodes.Status403Forbidden, StatusCodes.Status413PayloadTooLarge);

    /// <summary>What any endpoint that calls the Store may answer: the statuses of the Store-failure table
    /// (429 budget, 502/503/504 Store), besides the endpoint's own 4xx.</summary>
    public static RouteHandlerBuilder ProducesStoreFailures(this RouteHandlerBuilder builder, params int[] ownStatuses)
    {
        foreach (var status in ownStatuses) builder.ProducesProblem(status);
        return builder
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
    }
}
