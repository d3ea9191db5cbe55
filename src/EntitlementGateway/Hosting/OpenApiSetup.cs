using System.Text.Json.Nodes;
using EntitlementGateway.Api;
using EntitlementGateway.Budget;
using EntitlementGateway.Entitlements;
using Microsoft.OpenApi;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Security;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Hosting;

/// <summary>The generated OpenAPI document at <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>.</summary>
public static class OpenApiSetup
{
    public static IServiceCollection AddGatewayOpenApi(this IServiceCollection services) =>
        services.AddSingleton<OpenApiDocumentCache>().AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "EntitlementGateway",
                    Version = "v1",
                    Description = "Answers what a player owns in the Microsoft Store, deduplicated and Active-only, " +
                                  "while keeping every player under the Store's per-user rate limit.",
                };
                OpsSecurity.AddSchemes(document);
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer(OpenApiContract.ApplyAsync);
            options.AddOperationTransformer((operation, context, _) =>
            {
                OpsSecurity.Require(operation, context);
                return Task.CompletedTask;
            });
            // A UCID is text on the wire; UcidText only changes how the gateway reads it (inline, never a component).
            // It is always optional (xbox may be sent instead), so null is allowed, as for the other credential fields.
            options.CreateSchemaReferenceId = type => type.Type == typeof(UcidText) ? null : Microsoft.AspNetCore.OpenApi.OpenApiOptions.CreateDefaultSchemaReferenceId(type);
            options.AddSchemaTransformer((schema, context, _) =>
            {
                if (context.JsonTypeInfo.Type == typeof(UcidText)) schema.Type = JsonSchemaType.String | JsonSchemaType.Null;
                if (Examples.TryGetValue(context.JsonTypeInfo.Type, out var example)) schema.Examples = [example()];
                return Task.CompletedTask;
            });
        });

    public static WebApplication MapGatewayOpenApi(this WebApplication app)
    {
        // The one document by its name: any other name reaches the gateway's own 404 problem (the framework answers an
        // unknown document name with a plain-text 404).
        app.MapOpenApi("/openapi/v1.json").AddEndpointFilter(app.Services.GetRequiredService<OpenApiDocumentCache>().ServeAsync);
        var access = SecuritySetup.SwaggerAccessFor(app.Services.GetRequiredService<IOptions<OpsOptions>>().Value, app.Environment);
        // Only requests under /swagger pass through the UI's middleware: in the main pipeline every other request (each
        // query, each health probe) went through it too, and its path matching, regular expressions for a GET.
        app.UseWhen(context => context.Request.Path.StartsWithSegments(SwaggerPath), ui => ui.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/openapi/v1.json", "EntitlementGateway v1");
            options.RoutePrefix = SwaggerPath[1..];
            options.DocumentTitle = "EntitlementGateway";
            if (access == SwaggerAccess.Protected)
            {
                options.UseRequestInterceptor(AskForTheOpsCredential);
                options.UseResponseInterceptor(ForgetARefusedCredential);
            }
        }));
        return app;
    }

    /// <summary>Where Swagger UI is served (and what the API-description guard covers).</summary>
    internal const string SwaggerPath = "/swagger";

    private const string CredentialStorageKey = "entitlement-gateway-ops-credential";

    /// <summary>
    /// Protected: the document needs the ops key before the page can show anything, and the Authorize dialog only
    /// exists once it has. So the page asks once per browser tab (kept in sessionStorage, gone with the tab) and sends
    /// it with every request that carries no credential of its own.
    /// </summary>
    private const string AskForTheOpsCredential = "(req) => { if (req.headers['X-Api-Key'] || req.headers['Authorization']) return req; " +
        "let value = sessionStorage.getItem('" + CredentialStorageKey + "'); " +
        "if (!value) { value = window.prompt('This console is protected. The ops API key (X-Api-Key), or Bearer <operator token>:'); " +
        "if (!value) return req; value = value.trim(); sessionStorage.setItem('" + CredentialStorageKey + "', value); } " +
        "if (value.startsWith('Bearer ')) req.headers['Authorization'] = value; else req.headers['" + OpsOptions.ApiKeyHeader + "'] = value; " +
        "return req; }";

    /// <summary>A refused credential is forgotten, so a reload asks again instead of failing for the tab's life.</summary>
    private const string ForgetARefusedCredential = "(res) => { if (res.status === 401) sessionStorage.removeItem('" + CredentialStorageKey + "'); return res; }";

    private static readonly Dictionary<Type, Func<JsonNode>> Examples = new()
    {
        [typeof(EntitlementQueryRequest)] = () => new JsonObject
        {
            ["userCollectionsId"] = "eyJhbGciOiJSUzI1NiIs...",
            ["products"] = new JsonArray(new JsonObject { ["productId"] = "9N30KZZF4BR9", ["skuId"] = "0010" }),
            ["productTypes"] = new JsonArray("Game", "Durable"),
            ["includeSatisfyingItems"] = true,
        },
        [typeof(ProductSkuRequest)] = () => new JsonObject { ["productId"] = "9N30KZZF4BR9", ["skuId"] = "0010" },
        [typeof(XboxCredentials)] = () => new JsonObject
        {
            ["authorization"] = "XBL3.0 x=2535405290654321;eyJlbmMiOiJBMTI4Q0JDK0hTMjU2Ii...",
            ["signature"] = "AAAAAQHa8nQkc2Q0...",
        },
        [typeof(GamePassRequest)] = () => new JsonObject { ["userCollectionsId"] = "eyJhbGciOiJSUzI1NiIs..." },
        [typeof(GamePassResponse)] = () => new JsonObject
        {
            ["active"] = true,
            ["tiers"] = new JsonArray("Ultimate"),
            ["servedFrom"] = "upstream",
        },
        [typeof(ConsumeRequest)] = () => new JsonObject
        {
            ["userCollectionsId"] = "eyJhbGciOiJSUzI1NiIs...",
            ["productId"] = "9NCOINS00001",
            ["quantity"] = 3,
            ["trackingId"] = "4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71",
        },
        [typeof(ConsumeResponse)] = () => new JsonObject
        {
            ["productId"] = "9NCOINS00001",
            ["trackingId"] = "4f1c2d9e-0b7a-4c1e-9a55-2f0c8d3b6e71",
            ["newQuantity"] = 7,
            ["orderTransactions"] = new JsonArray(new JsonObject
            {
                ["orderId"] = "b6f2c0a4-7e1d-4c55-9f3a-1d2e3f4a5b6c",
                ["orderLineItemId"] = "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5",
                ["quantityConsumed"] = 3,
            }),
        },
        [typeof(EntitlementQueryResponse)] = () => new JsonObject
        {
            ["entitlements"] = new JsonArray(EntitlementExample()),
            ["servedFrom"] = "upstream",
        },
        [typeof(Entitlement)] = EntitlementExample,
        [typeof(TrialInfo)] = () => new JsonObject { ["isTrial"] = false, ["isInTrialPeriod"] = false, ["timeRemaining"] = null },
        [typeof(CollectionsTicketResponse)] = () => new JsonObject
        {
            ["serviceTicket"] = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIs...",
            ["expiresOn"] = "2026-11-22T13:00:00+00:00",
        },
        [typeof(RenewUserCollectionsIdRequest)] = () => new JsonObject { ["userCollectionsId"] = "eyJhbGciOiJSUzI1NiIs..." },
        [typeof(RenewUserCollectionsIdResponse)] = () => new JsonObject
        {
            ["userCollectionsId"] = "eyJhbGciOiJSUzI1NiIs...",
            ["expiresOn"] = "2026-12-22T12:00:00+00:00",
        },
        [typeof(BudgetSnapshot)] = () => new JsonObject
        {
            ["key"] = "user-player-1",
            ["limit"] = 100,
            ["windowSeconds"] = 300,
            ["used"] = 42,
            ["remaining"] = 58,
            ["oldestEntry"] = "2026-11-22T11:56:10+00:00",
            ["blockedUntil"] = null,
        },
        [typeof(Microsoft.AspNetCore.Mvc.ProblemDetails)] = () => new JsonObject
        {
            ["type"] = "https://tools.ietf.org/html/rfc6585#section-4",
            ["title"] = "The player's Store budget is used up.",
            ["status"] = 429,
            ["detail"] = "This player's budget of Store calls is used up; retry after 118 s.",
            ["instance"] = "/v1/entitlements/query",
            ["code"] = GatewayProblems.BudgetExhausted,
        },
    };

    private static JsonObject EntitlementExample() => new()
    {
        ["productId"] = "9N30KZZF4BR9",
        ["skuId"] = "0010",
        ["productKind"] = "Durable",
        ["acquisitionType"] = "Single",
        ["quantity"] = 1,
        ["startDate"] = "2026-08-30T21:53:07+00:00",
        ["endDate"] = "9999-12-31T23:59:59.9999999+00:00",
        ["acquiredDate"] = "2026-08-30T21:53:08+00:00",
        ["satisfiedByProductIds"] = new JsonArray(),
        ["trial"] = new JsonObject { ["isTrial"] = false, ["isInTrialPeriod"] = false, ["timeRemaining"] = null },
    };
}
