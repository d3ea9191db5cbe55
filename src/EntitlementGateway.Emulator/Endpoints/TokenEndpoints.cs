using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// A stand-in for the Entra ID v2 token endpoint (client credentials only), shaped so MSAL.NET accepts it with
/// authority <c>https://host:port/emulator</c> (MSAL treats "emulator" as the tenant and posts to
/// {authority}/oauth2/v2.0/token). Discovery documents are served too, for OIDC-style clients.
/// </summary>
internal static class TokenEndpoints
{
    private const string DefaultSuffix = "/.default";

    // Past DateTimeOffset.MaxValue from now: a client that adds it to the clock overflows.
    private const long EndlessSeconds = 100_000_000_000_000;

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/oauth2/v2.0/token", TokenAsync).DisableAntiforgery();
        group.MapGet("/v2.0/.well-known/openid-configuration", Discovery);
        group.MapGet("/.well-known/openid-configuration", Discovery);
        group.MapGet("/discovery/v2.0/keys", (EmulatorState state) =>
            Results.Json(new JsonObject { ["keys"] = new JsonArray(state.Signer.PublicJwk()) }, EmulatorJson.Default.JsonObject));
    }

    private static async Task<IResult> TokenAsync(HttpContext ctx, EmulatorState state)
    {
        var answer = state.Faults.TokenAnswer;
        if (answer == TokenAnswer.Redirect) return StoreHttp.Redirect(ctx, state.Faults.RedirectTo);
        if (!ctx.Request.HasFormContentType)
            return AadError(400, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.");
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        if (form["grant_type"] != "client_credentials")
            return AadError(400, "unsupported_grant_type", 70003, "The emulator supports only the client_credentials grant.");

        var clientId = form["client_id"].ToString();
        if (clientId != state.Options.ClientId)
            return AadError(401, "invalid_client", 700016, $"Application with identifier '{clientId}' was not found.");
        var assertion = form["client_assertion"].ToString();
        if (state.Options.FederatedIssuer is { } issuer && form.ContainsKey("client_assertion") && FederatedAssertion.Issuer(assertion) == issuer)
        {
            var federatedError = FederatedAssertion.Verify(form["client_assertion_type"].ToString(), assertion, state.Options, state.Time.GetUtcNow(), out var id);
            if (federatedError is not null) return AadError(401, "invalid_client", 700213, "Federated client assertion failed: " + federatedError);
            state.RecordFederatedAssertion(id!);
        }
        else if (form.ContainsKey("client_assertion"))
        {
            var assertionError = ClientAssertion.Verify(form["client_assertion_type"].ToString(), form["client_assertion"].ToString(),
                state.Options.ClientCertificatePem, clientId, state.Time.GetUtcNow());
            if (assertionError is not null) return AadError(401, "invalid_client", 700027, "Client assertion failed: " + assertionError);
        }
        else if (form["client_secret"] != state.Options.ClientSecret)
        {
            return AadError(401, "invalid_client", 7000215, "Invalid client secret provided.");
        }

        // The resource is the scope without "/.default"; MSAL may add openid/profile/offline_access, which carry none.
        var resource = form["scope"].ToString()
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(s => s.EndsWith(DefaultSuffix, StringComparison.Ordinal));
        if (resource is null || resource.Length == DefaultSuffix.Length)
            return AadError(400, "invalid_scope", 1002012, "The scope must be '<resource>/.default' for the client credentials flow.");
        resource = resource[..^DefaultSuffix.Length];

        ctx.Response.Headers.CacheControl = "no-store, no-cache";
        switch (answer)
        {
            case TokenAnswer.NoAccessToken:
                return Results.Json(new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = EmulatorState.AccessTokenLifetimeSeconds,
                    ["ext_expires_in"] = EmulatorState.AccessTokenLifetimeSeconds }, EmulatorJson.Default.JsonObject);
            case TokenAnswer.NotJson:
                return Results.Content("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
            case TokenAnswer.Huge:
                return Results.Json(new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = EmulatorState.AccessTokenLifetimeSeconds,
                    ["access_token"] = state.IssueAccessToken(resource, clientId), ["padding"] = new string(' ', 16 << 20) }, EmulatorJson.Default.JsonObject);
            case TokenAnswer.EndlessExpiry:
                return Results.Json(new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = EndlessSeconds, ["ext_expires_in"] = EndlessSeconds,
                    ["access_token"] = state.IssueAccessToken(resource, clientId) }, EmulatorJson.Default.JsonObject);
        }
        var token = state.IssueAccessToken(resource, clientId);
        return Results.Json(
            new TokenResponse("Bearer", EmulatorState.AccessTokenLifetimeSeconds, EmulatorState.AccessTokenLifetimeSeconds, token),
            EmulatorJson.Default.TokenResponse);
    }

    private static IResult Discovery(HttpContext ctx)
    {
        var authority = $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.PathBase}/emulator";
        return Results.Json(new JsonObject
        {
            ["issuer"] = authority + "/v2.0",
            ["token_endpoint"] = authority + "/oauth2/v2.0/token",
            ["jwks_uri"] = authority + "/discovery/v2.0/keys",
            ["grant_types_supported"] = new JsonArray("client_credentials"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "private_key_jwt"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["response_types_supported"] = new JsonArray("token"),
            ["subject_types_supported"] = new JsonArray("pairwise"),
            ["authorization_endpoint"] = authority + "/oauth2/v2.0/authorize",
        }, EmulatorJson.Default.JsonObject);
    }

    private static IResult AadError(int status, string error, int code, string description)
    {
        var now = DateTimeOffset.UtcNow;
        return Results.Json(
            new AadError(error, $"AADSTS{code}: {description} Trace ID: emulator", [code],
                now.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture), Guid.NewGuid().ToString(), Guid.NewGuid().ToString()),
            EmulatorJson.Default.AadError, statusCode: status);
    }
}
