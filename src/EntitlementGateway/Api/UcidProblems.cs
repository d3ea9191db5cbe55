using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.Api;

/// <summary>The answer to a UCID refused by its pre-check, the same on every endpoint that takes one.</summary>
public static class UcidProblems
{
    /// <summary>Shape, audience or client id: 400; validity window: 401; null when the UCID passed.</summary>
    public static ProblemHttpResult? For(UcidProblem problem, string detail) => problem switch
    {
        UcidProblem.Invalid => GatewayProblems.Create(400, GatewayProblems.InvalidUserCollectionsId, "The UserCollectionsId is not valid.", detail),
        UcidProblem.Expired => GatewayProblems.Create(401, GatewayProblems.UserCollectionsIdExpired, "The UserCollectionsId is not valid now.", detail),
        _ => null,
    };
}
