using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Security;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EntitlementGateway.Api;

/// <summary>Whom a Store call is for: a checked UCID or a checked delegated Xbox authorization, and whose budget it spends.</summary>
public sealed record StoreCaller(UserCollectionsId? Ucid, XboxAuthorization? Xbox, string BudgetKey)
{
    /// <summary>The UCID with its hash, to remember once the Store has answered for it (<see cref="UcidValidator.Accepted"/>).</summary>
    public AcceptedUcids.Entry? UcidEntry { get; init; }
}

/// <summary>
/// The one check of a game client's Store credentials, for every endpoint that calls the Store for a player: exactly one
/// of <c>userCollectionsId</c> and <c>xbox</c>; the UCID pre-checked (shape, audience, client id, lifetime) or the Xbox
/// authorization's shape checked; then the player binding. Everything is refused here, before any budget is spent.
/// </summary>
public static class PlayerCredentials
{
    public static ProblemHttpResult? Resolve(UcidText? userCollectionsId, XboxCredentials? xbox, HttpContext http,
        UcidValidator ucids, PlayerBinding binding, out StoreCaller? caller)
    {
        ArgumentNullException.ThrowIfNull(ucids);
        ArgumentNullException.ThrowIfNull(binding);
        // The request's user only while binding is on (PlayerBinding.UserOf): asking for it makes an empty principal.
        var user = binding.UserOf(http);
        caller = null;
        var hasUcid = userCollectionsId is { IsBlank: false };
        if (hasUcid == (xbox is not null))
        {
            var (field, message) = hasUcid
                ? ("xbox", "Send either userCollectionsId or xbox, not both.")
                : ("userCollectionsId", "userCollectionsId is required (or xbox, the player's delegated Xbox authorization).");
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The request is not valid.", message,
                new Dictionary<string, string[]> { [field] = [message] });
        }

        if (xbox is not null)
        {
            var parsed = XboxAuthorization.TryParse(xbox.Authorization, xbox.Signature, out var problem, out var detail);
            if (parsed is null)
            {
                var (code, field) = problem == XboxAuthorizationProblem.Signature
                    ? (GatewayProblems.InvalidXboxSignature, "xbox.signature")
                    : (GatewayProblems.InvalidXboxAuthorization, "xbox.authorization");
                return GatewayProblems.Create(400, code, "The Xbox authorization is not valid.", detail,
                    new Dictionary<string, string[]> { [field] = [detail] });
            }
            if (binding.Check(user, parsed) is { } noPlayer) return noPlayer;
            caller = new StoreCaller(null, parsed, binding.BudgetKey(user, parsed));
            return null;
        }

        AcceptedUcids.Entry? entry;
        UserCollectionsId? ucid;
        string ucidDetail;
        UcidProblem ucidProblem;
        if (userCollectionsId!.Remembered is { } remembered)
        {
            (entry, ucid) = (remembered, userCollectionsId.RememberedUcid());
            ucidProblem = ucids.CheckRemembered(ucid, out ucidDetail);
        }
        else ucidProblem = ucids.Check(userCollectionsId.Text, out entry, out ucid, out ucidDetail);
        if (UcidProblems.For(ucidProblem, ucidDetail) is { } refused) return refused;
        if (binding.Check(user, ucid!) is { } mismatch) return mismatch;
        caller = new StoreCaller(ucid, null, binding.BudgetKey(user, ucid!)) { UcidEntry = entry };
        return null;
    }
}
