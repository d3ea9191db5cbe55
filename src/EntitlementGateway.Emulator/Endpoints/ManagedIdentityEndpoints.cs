using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// A managed-identity endpoint shaped as App Service's (api-version 2019-08-01), the source MSAL picks when
/// IDENTITY_ENDPOINT and IDENTITY_HEADER are set: <c>GET /emulator/msi/token?api-version=2019-08-01&amp;resource=...</c>
/// with the secret in <c>X-IDENTITY-HEADER</c>. It issues an access token for the resource to the app's client id.
/// </summary>
internal static class ManagedIdentityEndpoints
{
    public const string ApiVersion = "2019-08-01";

    public static void Map(IEndpointRouteBuilder group) => group.MapGet("/msi/token", Token);

    private static IResult Token(HttpContext ctx, EmulatorState state)
    {
        var query = ctx.Request.Query;
        if (ctx.Request.Headers["X-IDENTITY-HEADER"] != state.Options.ManagedIdentityHeader)
            return Error(401, "The X-IDENTITY-HEADER header is missing or wrong.");
        if (query["api-version"] != ApiVersion) return Error(400, $"api-version must be {ApiVersion}.");
        var resource = query["resource"].ToString();
        if (resource.Length == 0) return Error(400, "resource is required.");
        if (query.TryGetValue("client_id", out var clientId) && clientId != state.Options.ClientId)
            return Error(400, $"No user-assigned identity with client id '{clientId}' is assigned to this resource.");

        var token = state.IssueAccessToken(resource);
        state.CountManagedIdentityToken();
        var expiresOn = state.Time.GetUtcNow().ToUnixTimeSeconds() + EmulatorState.AccessTokenLifetimeSeconds;
        return Results.Json(new ManagedIdentityToken(token, expiresOn.ToString(CultureInfo.InvariantCulture), resource, "Bearer", state.Options.ClientId),
            EmulatorJson.Default.ManagedIdentityToken);
    }

    private static IResult Error(int status, string message) =>
        Results.Json(new ManagedIdentityError(status, message), EmulatorJson.Default.ManagedIdentityError, statusCode: status);
}
