using System.Text.Json.Nodes;
using EntitlementGateway.Api;
using EntitlementGateway.Entitlements;
using Microsoft.OpenApi;

namespace EntitlementGateway.Hosting;

/// <summary>The generated OpenAPI document at <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>.</summary>
public static class OpenApiSetup
{
    public static IServiceCollection AddGatewayOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
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
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                if (Examples.TryGetValue(context.JsonTypeInfo.Type, out var example)) schema.Examples = [example()];
                return Task.CompletedTask;
            });
        });

    public static WebApplication MapGatewayOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/openapi/v1.json", "EntitlementGateway v1");
            options.RoutePrefix = "swagger";
            options.DocumentTitle = "EntitlementGateway";
        });
        return app;
    }

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
        [typeof(EntitlementQueryResponse)] = () => new JsonObject
        {
            ["entitlements"] = new JsonArray(EntitlementExample()),
            ["servedFrom"] = "upstream",
        },
        [typeof(Entitlement)] = EntitlementExample,
        [typeof(TrialInfo)] = () => new JsonObject { ["isTrial"] = false, ["isInTrialPeriod"] = false, ["timeRemaining"] = null },
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
