using System.Reflection;
using System.Text.Json.Nodes;
using EntitlementGateway.Consumables;
using EntitlementGateway.Entitlements;
using EntitlementGateway.Infrastructure.Http;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EntitlementGateway.Hosting;

/// <summary>
/// What the generated document cannot see in the code and a client generated from it needs: the problem body with its
/// <c>code</c>, the codes each status carries, the statuses every body endpoint may answer, the request rules the
/// gateway enforces, the response headers it promises, and which of two credentials a body needs.
/// </summary>
internal static class OpenApiContract
{
    /// <summary>The problem codes each status is answered with (one table, as README's).</summary>
    internal static readonly IReadOnlyDictionary<int, string[]> CodesByStatus = new Dictionary<int, string[]>
    {
        [400] = [GatewayProblems.InvalidRequest, GatewayProblems.InvalidUserCollectionsId, GatewayProblems.InvalidXboxAuthorization, GatewayProblems.InvalidXboxSignature, GatewayProblems.ProductNotConsumable],
        [401] = [GatewayProblems.UserCollectionsIdExpired, GatewayProblems.Unauthorized, GatewayProblems.XboxTokenRefused],
        [403] = [GatewayProblems.PlayerMismatch, GatewayProblems.Forbidden],
        [404] = [GatewayProblems.NotFound],
        [405] = [GatewayProblems.MethodNotAllowed],
        [408] = [GatewayProblems.InvalidRequest],
        [409] = [GatewayProblems.TrackingIdReused, GatewayProblems.ConsumeInProgress, GatewayProblems.InsufficientQuantity],
        [413] = [GatewayProblems.RequestTooLarge],
        [415] = [GatewayProblems.InvalidRequest],
        [429] = [GatewayProblems.BudgetExhausted, GatewayProblems.TooManyRequests],
        [431] = [GatewayProblems.RequestHeadersTooLarge],
        [500] = [GatewayProblems.InternalError],
        [502] = [GatewayProblems.UpstreamError],
        [503] = [GatewayProblems.UpstreamUnavailable, GatewayProblems.BudgetUnavailable, GatewayProblems.ConsumeLedgerUnavailable, GatewayProblems.ClawbackUnavailable],
        [504] = [GatewayProblems.UpstreamTimeout],
    };

    private const string Problem = "ProblemDetails";

    public static Task ApplyAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        // The server is the one the document was fetched from: the request's Host named it, which a client chooses.
        document.Servers = [];
        if (document.Components?.Schemas is not { } schemas) return Task.CompletedTask;
        foreach (var schema in schemas.Values.OfType<OpenApiSchema>()) Tidy(schema);
        if (schemas.TryGetValue(Problem, out var problem) && problem is OpenApiSchema problemSchema) DescribeProblem(problemSchema);
        DescribeRequests(schemas, context.ApplicationServices);
        if (schemas.TryGetValue(nameof(Api.EntitlementQueryResponse), out var answer)) ServedFrom(answer);
        if (schemas.TryGetValue(nameof(Api.GamePassResponse), out var pass)) ServedFrom(pass);
        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations ?? [])
                DescribeResponses(path, method, operation);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Numbers are written as numbers: the reader's leniency (a quoted number is read) made every integer "integer or
    /// string". An open JSON value (recurrenceData) is any value: "null or any value" as oneOf matched null twice.
    /// </summary>
    private static void Tidy(OpenApiSchema schema)
    {
        foreach (var (name, property) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
        {
            if (property is OpenApiSchema { Type: { } type } own && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)) && type.HasFlag(JsonSchemaType.String))
            {
                own.Type = type & ~JsonSchemaType.String;
                own.Pattern = null;
            }
            if (property is OpenApiSchema { OneOf: { Count: 2 } branches } open
                && branches.Any(b => b is OpenApiSchema { Type: JsonSchemaType.Null })
                && branches.Any(b => b is OpenApiSchemaReference { Reference.Id: "JsonElement" }))
                schema.Properties![name] = new OpenApiSchema { Description = open.Description ?? "Any JSON value, as the Store wrote it, or null." };
        }
    }

    private static void DescribeProblem(OpenApiSchema problem)
    {
        problem.Properties ??= new Dictionary<string, IOpenApiSchema>();
        problem.Properties["code"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "The stable problem code: branch on it, not on title or detail.",
            Enum = [.. AllCodes().Select(c => (JsonNode)JsonValue.Create(c))],
        };
        problem.Properties["errors"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "For a field that is wrong: the field (e.g. products[1].skuId) and what is wrong with it.",
            AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
        };
        problem.Properties["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The W3C trace of the request; every log line of it carries the same id." };
        problem.Required = new HashSet<string> { "status", "title", "code" };
    }

    internal static IEnumerable<string> AllCodes() =>
        typeof(GatewayProblems).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    private static void ServedFrom(IOpenApiSchema answer)
    {
        if (Property(answer, "servedFrom") is OpenApiSchema servedFrom)
            servedFrom.Enum = [JsonValue.Create("upstream"), JsonValue.Create("cache"), JsonValue.Create("stale")];
    }

    /// <summary>The rules the gateway's validation enforces, so a validating client refuses what the gateway would.</summary>
    private static void DescribeRequests(IDictionary<string, IOpenApiSchema> schemas, IServiceProvider services)
    {
        // A body names the player by one credential: the UCID, or the Xbox authorization; never both.
        foreach (var name in new[] { nameof(Api.EntitlementQueryRequest), nameof(Api.GamePassRequest), nameof(Api.ConsumeRequest) })
        {
            if (Find(schemas, name) is not OpenApiSchema body) continue;
            body.Required?.Remove("userCollectionsId");
            body.Required?.Remove("xbox");
            body.OneOf = [new OpenApiSchema { Required = new HashSet<string> { "userCollectionsId" } }, new OpenApiSchema { Required = new HashSet<string> { "xbox" } }];
        }
        if (Find(schemas, nameof(Api.EntitlementQueryRequest)) is OpenApiSchema query)
        {
            if (Property(query, "products") is OpenApiSchema products)
            {
                products.MinItems = 1;
                products.MaxItems = ProductRules.MaxProducts;
            }
            if (Property(query, "productTypes") is OpenApiSchema { Items: OpenApiSchema kinds })
            {
                kinds.Type = JsonSchemaType.String;
                kinds.Enum = [.. ProductRules.ProductKinds.Select(k => (JsonNode)JsonValue.Create(k))];
            }
        }
        if (Find(schemas, nameof(Api.ProductSkuRequest)) is OpenApiSchema product)
        {
            product.Required = new HashSet<string> { "productId" };
            Text(product, "productId", "^[0-9A-Z]{12}$");
            Text(product, "skuId", "^[0-9]{4}$");
        }
        if (Find(schemas, nameof(Api.ConsumeRequest)) is OpenApiSchema consume)
        {
            consume.Required = new HashSet<string> { "productId", "quantity", "trackingId" };
            Text(consume, "productId", "^[0-9A-Z]{12}$");
            if (Text(consume, "trackingId", null) is { } tracking) tracking.Format = "uuid";
            if (Property(consume, "quantity") is OpenApiSchema quantity)
            {
                quantity.Type = JsonSchemaType.Integer;
                quantity.Minimum = "1";
                quantity.Maximum = services.GetRequiredService<IOptions<ConsumeOptions>>().Value.MaxQuantity.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        if (Find(schemas, nameof(Api.OpsActionRequest)) is OpenApiSchema action && Text(action, "reason", null) is { } reason)
        {
            reason.MinLength = 1;
            reason.MaxLength = Api.OpsApi.MaxReasonLength;
        }
    }

    private static IOpenApiSchema? Property(IOpenApiSchema owner, string name) =>
        owner.Properties is { } properties && properties.TryGetValue(name, out var property) ? property : null;

    private static IOpenApiSchema? Find(IDictionary<string, IOpenApiSchema> schemas, string name) =>
        schemas.TryGetValue(name, out var schema) ? schema : null;

    /// <summary>A required text field: a string, not null, matching <paramref name="pattern"/> when one is given.</summary>
    private static OpenApiSchema? Text(OpenApiSchema owner, string name, string? pattern)
    {
        if (Property(owner, name) is not OpenApiSchema field) return null;
        field.Type = JsonSchemaType.String;
        if (pattern is not null) field.Pattern = pattern;
        return field;
    }

    private static void DescribeResponses(string path, HttpMethod method, OpenApiOperation operation)
    {
        // A query parameter binds as text; the endpoint reads limit as a number from 1 to 500, 100 when absent.
        if (path == "/ops/clawback/events" && operation.Parameters?.FirstOrDefault(p => p.Name == "limit") is OpenApiParameter { Schema: OpenApiSchema limit })
        {
            limit.Type = JsonSchemaType.Integer;
            limit.Minimum = "1";
            limit.Maximum = Api.ClawbackOpsApi.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
            limit.Default = JsonValue.Create(100);
        }
        operation.Responses ??= [];
        var responses = operation.Responses;
        if (operation.RequestBody is not null)
        {
            foreach (var status in new[] { 400, 408, 413, 415 }) AddProblem(responses, status);
        }
        AddProblem(responses, 431);
        foreach (var (key, response) in responses)
        {
            if (response is not OpenApiResponse own || !int.TryParse(key, out var status)) continue;
            if (status >= 400 && CodesByStatus.TryGetValue(status, out var codes))
                own.Description = $"{ReasonOf(status)}. Problem codes: {string.Join(", ", codes)}.";
            if (status is 429 or 503 || (status == 409 && path.EndsWith("/consume", StringComparison.Ordinal)))
                Header(own, "Retry-After", "Seconds to wait before asking again.", JsonSchemaType.Integer);
            // The endpoints that spend the player's budget (the ticket and renewal spend none).
            if (path is "/v1/entitlements/query" or "/v1/consumables/consume" or "/v1/subscriptions/game-pass")
            {
                Header(own, "RateLimit-Policy", "The player's Store budget: \"upstream\";q=<calls>;w=<seconds>.", JsonSchemaType.String);
                if (status is 200 or 429) Header(own, "RateLimit", "What is left of it, when this request spent or was refused a unit: \"upstream\";r=<remaining>;t=<seconds>.", JsonSchemaType.String);
            }
            if (status == 200 && path.EndsWith("/consume", StringComparison.Ordinal))
                Header(own, Api.ConsumablesApi.ReplayedHeader, "true when this trackingId was consumed before: the same answer, no Store call.", JsonSchemaType.String);
            if (status == 200 && responses.ContainsKey("502") && path is "/v1/entitlements/query" or "/v1/subscriptions/game-pass")
                Header(own, Api.StoreAnswerHeaders.StaleBecauseHeader, "On a stale answer (servedFrom stale): the problem code the Store call ended with.", JsonSchemaType.String);
        }
    }

    private static void AddProblem(OpenApiResponses responses, int status)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (responses.ContainsKey(key)) return;
        responses[key] = new OpenApiResponse
        {
            Description = ReasonOf(status),
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(Problem) },
            },
        };
    }

    private static void Header(OpenApiResponse response, string name, string description, JsonSchemaType type)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } };
    }

    private static string ReasonOf(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
