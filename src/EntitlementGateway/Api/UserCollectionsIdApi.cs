using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.Api;

/// <summary>The collections ticket a game needs to mint a UCID.</summary>
/// <param name="ServiceTicket">An Entra ID token for https://onestore.microsoft.com/b2b/keys/create/collections: pass it to XStoreGetUserCollectionsIdAsync.</param>
/// <param name="ExpiresOn">When the ticket expires.</param>
public sealed record CollectionsTicketResponse(string ServiceTicket, DateTimeOffset ExpiresOn);

/// <summary>A UCID to renew.</summary>
/// <param name="UserCollectionsId">The UCID, not yet expired.</param>
public sealed record RenewUserCollectionsIdRequest(string? UserCollectionsId);

/// <summary>The renewed UCID.</summary>
/// <param name="UserCollectionsId">The new UCID; use it from now on.</param>
/// <param name="ExpiresOn">When the new UCID expires.</param>
public sealed record RenewUserCollectionsIdResponse(string UserCollectionsId, DateTimeOffset? ExpiresOn);

/// <summary>What a game client needs around its UserCollectionsId: the ticket to mint one, and renewal.</summary>
public static class UserCollectionsIdApi
{
    public static RouteGroupBuilder MapUserCollectionsIdApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGameClientGroup("/v1", "UserCollectionsId");

        group.MapGet("/collections-ticket", GetTicketAsync)
            .WithName("GetCollectionsTicket")
            .WithSummary("A collections ticket for XStoreGetUserCollectionsIdAsync")
            .WithDescription("An Entra ID token for the collections-key audience, cached by MSAL. This is the only token the gateway hands out; its own service token never leaves it. Answered with Cache-Control: no-store.")
            .Produces<CollectionsTicketResponse>()
            .ProducesStoreFailures(StatusCodes.Status401Unauthorized);

        group.MapPost("/user-collections-id/renew", RenewAsync)
            .WithName("RenewUserCollectionsId")
            .WithSummary("Renew a UserCollectionsId before it expires")
            .WithDescription("Renews at the Store's fixed renew URL with the gateway's service token; the refreshUri inside the UCID is never called. An expired UCID cannot be renewed: mint a new one.")
            .Accepts<RenewUserCollectionsIdRequest>("application/json")
            .Produces<RenewUserCollectionsIdResponse>()
            .ProducesStoreFailures(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden);

        return group;
    }

    internal static async Task<Results<Ok<CollectionsTicketResponse>, ProblemHttpResult>> GetTicketAsync(
        HttpContext http, IStoreTokenProvider tokens, CancellationToken cancellationToken)
    {
        NoStore(http.Response);
        try
        {
            var ticket = await tokens.GetCollectionsTicketAsync(cancellationToken);
            return TypedResults.Ok(new CollectionsTicketResponse(ticket.Value, ticket.ExpiresOn));
        }
        catch (Microsoft.Identity.Client.MsalException)
        {
            return StoreFailureAnswers.Problem(http.Response, StoreFailureKind.Error, "The gateway could not obtain a collections ticket from Entra ID.", null);
        }
        catch (StoreTokenTimeoutException)
        {
            return StoreFailureAnswers.Problem(http.Response, StoreFailureKind.Timeout, "Entra ID did not issue a collections ticket in time.", null);
        }
    }

    internal static async Task<Results<Ok<RenewUserCollectionsIdResponse>, ProblemHttpResult>> RenewAsync(
        HttpContext http,
        UcidValidator validator,
        PlayerBinding binding,
        UserCollectionsKeysClient keys,
        CancellationToken cancellationToken)
    {
        NoStore(http.Response);
        var request = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.RenewUserCollectionsIdRequest, cancellationToken);
        if (string.IsNullOrWhiteSpace(request.UserCollectionsId))
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The request is not valid.", "userCollectionsId is required.",
                new Dictionary<string, string[]> { ["userCollectionsId"] = ["userCollectionsId is required."] });

        var ucidProblem = validator.Validate(request.UserCollectionsId, out var ucid, out var detail);
        if (ucidProblem == UcidProblem.Expired)
            detail = detail.Replace("renew it or mint a new one", "an expired key cannot be renewed; mint a new one", StringComparison.Ordinal);
        if (UcidProblems.For(ucidProblem, detail) is { } refused) return refused;
        if (binding.Check(http.User, ucid!) is { } mismatch) return mismatch;

        var result = await keys.RenewAsync(ucid!, binding.BudgetKey(http.User, ucid!), cancellationToken);
        return result.Renewed is { } renewed
            ? TypedResults.Ok(new RenewUserCollectionsIdResponse(renewed.Value, renewed.Expires))
            : StoreFailureAnswers.Problem(http.Response, result.Failure!.Value, result.Detail, result.RetryAfter);
    }

    private static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
