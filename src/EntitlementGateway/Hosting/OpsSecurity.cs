using EntitlementGateway.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EntitlementGateway.Hosting;

/// <summary>
/// The ops operations' security in the OpenAPI document, so Swagger UI offers <b>Authorize</b> with the API key or an
/// operator's bearer token and sends it on <b>Try it out</b>. Game-client operations need the player's bearer token only
/// while player binding is on.
/// </summary>
internal static class OpsSecurity
{
    public const string ApiKeyScheme = "OpsApiKey";
    public const string BearerScheme = "OpsBearer";
    public const string PlayerScheme = "PlayerBearer";

    public static void AddSchemes(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = OpsOptions.ApiKeyHeader,
            Description = "Ops:ApiKey, sent as the " + OpsOptions.ApiKeyHeader + " header.",
        };
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "An Entra ID token for Ops:Audience with the role Ops:RequiredRole.",
        };
        document.Components.SecuritySchemes[PlayerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "Player binding (PlayerAuth:Enabled): the game's identity provider's token for PlayerAuth:Audience.",
        };
    }

    /// <summary>Either scheme satisfies an operation behind the Ops policy (two requirements: one or the other).</summary>
    public static void Require(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAuthorizeData>().Any(a => a.Policy == PlayerAuthOptions.Policy))
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(PlayerScheme, context.Document)] = [] }];
            return;
        }
        if (!metadata.OfType<IAuthorizeData>().Any(a => a.Policy == OpsOptions.Policy)) return;
        operation.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] },
        ];
    }
}
