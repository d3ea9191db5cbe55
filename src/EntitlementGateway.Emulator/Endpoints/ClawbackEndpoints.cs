using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>
/// Clawback v2: the Store's sastoken endpoint (<c>POST /v8.0/b2b/clawback/sastoken</c>, service token, no body), the event queue
/// with the Azure Queue REST API (Get Messages, Peek, Delete Message, SAS-authorised, <c>x-ms-version</c> required),
/// and a test surface to enqueue an event for a user's order.
/// </summary>
internal static class ClawbackEndpoints
{
    public const string QueueName = "clawback";
    private static readonly string SasTokenPath = "/" + StoreOperations.ClawbackSasToken.Path;
    private static readonly string[] EventStates = ["Returned", "Revoked", "Refunded", "ChargebackReversal"];
    private static readonly string[] Sources = ["/Purchase/Refund", "/Purchase/Chargeback"];

    /// <summary>The Store endpoint, on the <c>/emulator/store</c> group.</summary>
    public static void MapStore(IEndpointRouteBuilder store)
    {
        store.MapPost(SasTokenPath, SasTokenAsync);
        // The documented method is POST; a 405 is what a front end answers for a known path with the wrong method.
        store.MapMethods(SasTokenPath, ["GET", "PUT", "DELETE"], () =>
            StoreHttp.Error(405, "MethodNotAllowed", "The sastoken endpoint is called with POST."));
    }

    /// <summary>The queue and the test surface, on the <c>/emulator</c> group.</summary>
    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapGet("/queue/{queue}/messages", GetMessages);
        group.MapDelete("/queue/{queue}/messages/{messageId}", DeleteMessage);
        group.MapPost("/clawback/events", EnqueueAsync);
        group.MapGet("/clawback/queue", (EmulatorState state) => Results.Json(
            new JsonObject { ["messages"] = state.ClawbackQueue.Count, ["sasTokensIssued"] = state.ClawbackSasTokensIssued },
            EmulatorJson.Default.JsonObject));
    }

    private static async Task<IResult> SasTokenAsync(HttpContext ctx, EmulatorState state)
    {
        state.CountOperation(StoreOperations.ClawbackSasToken);
        StoreHttp.AddCorrelationHeaders(ctx);
        if (await StoreHttp.ApplyLatencyAndFaultsAsync(ctx, state) is { } failed) return failed;
        var token = StoreHttp.AuthenticateService(state, StoreHttp.BearerToken(ctx), out var tokenError);
        if (token is null) return StoreHttp.Error(401, "Unauthorized", "Authorization: " + tokenError);

        var (query, expires) = state.QueueSas.Issue(QueueName);
        var request = ctx.Request;
        var queueUri = $"{request.Scheme}://{request.Host}{request.PathBase}{EmulatorServiceCollectionExtensions.RoutePrefix}/queue/{QueueName}";
        state.CountClawbackSasToken();
        var answer = new JsonObject { ["uri"] = queueUri + "?" + query };
        if (!state.Faults.SasUriOnly) answer["expiresOn"] = expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture);
        return Results.Json(answer, EmulatorJson.Default.JsonObject);
    }

    private static IResult GetMessages(string queue, HttpContext ctx, EmulatorState state)
    {
        var peek = string.Equals(ctx.Request.Query["peekonly"], "true", StringComparison.OrdinalIgnoreCase);
        if (Refusal(queue, ctx, state, peek ? 'r' : 'p') is { } refused) return refused;
        if (!Parameter(ctx, "numofmessages", 1, 1, 32, out var count, out var bad)) return bad!;
        IReadOnlyList<QueueMessageView> messages;
        if (peek) messages = state.ClawbackQueue.Peek(count);
        else
        {
            if (!Parameter(ctx, "visibilitytimeout", 30, 1, 604_800, out var visibility, out bad)) return bad!;
            messages = state.ClawbackQueue.Get(count, TimeSpan.FromSeconds(visibility));
        }
        var list = new XElement("QueueMessagesList", messages.Select(m => new XElement("QueueMessage",
            new XElement("MessageId", m.MessageId),
            new XElement("InsertionTime", Rfc1123(m.InsertionTime)),
            new XElement("ExpirationTime", Rfc1123(m.ExpirationTime)),
            m.PopReceipt is null ? null : new XElement("PopReceipt", m.PopReceipt),
            m.PopReceipt is null ? null : new XElement("TimeNextVisible", Rfc1123(m.TimeNextVisible)),
            new XElement("DequeueCount", m.DequeueCount),
            new XElement("MessageText", m.MessageText))));
        return Results.Text(new XDocument(new XDeclaration("1.0", "utf-8", null), list).Declaration + list.ToString(SaveOptions.DisableFormatting),
            "application/xml", Encoding.UTF8);
    }

    private static IResult DeleteMessage(string queue, string messageId, HttpContext ctx, EmulatorState state)
    {
        if (Refusal(queue, ctx, state, 'p') is { } refused) return refused;
        var popReceipt = ctx.Request.Query["popreceipt"].ToString();
        if (popReceipt.Length == 0)
            return QueueError(400, "MissingRequiredQueryParameter", "A query parameter that's mandatory for this request is not specified: popreceipt.");
        return state.ClawbackQueue.Delete(messageId, popReceipt) == QueueDeleteOutcome.Deleted
            ? Results.StatusCode(204)
            : QueueError(404, "MessageNotFound", "The specified message does not exist, or the pop receipt is not its current one.");
    }

    /// <summary>The checks Azure makes before an operation: the version header, the signature, the queue.</summary>
    private static IResult? Refusal(string queue, HttpContext ctx, EmulatorState state, char permission)
    {
        ctx.Response.Headers["x-ms-request-id"] = Guid.NewGuid().ToString();
        ctx.Response.Headers["x-ms-version"] = QueueSas.Version;
        if (state.QueueSas.Check(ctx.Request.Query, queue, permission) is { } why)
            return QueueError(403, "AuthenticationFailed", "Server failed to authenticate the request. " + why);
        if (string.IsNullOrEmpty(ctx.Request.Headers["x-ms-version"]))
            return QueueError(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: x-ms-version.");
        return queue == QueueName ? null : QueueError(404, "QueueNotFound", "The specified queue does not exist.");
    }

    private static bool Parameter(HttpContext ctx, string name, int fallback, int min, int max, out int value, out IResult? bad)
    {
        bad = null;
        var text = ctx.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            value = fallback;
            return true;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
            bad = QueueError(400, "InvalidQueryParameterValue", $"Value for one of the query parameters specified in the request URI is invalid: {name}.");
        else if (value < min || value > max)
            bad = QueueError(400, "OutOfRangeQueryParameterValue", $"{name} must be between {min} and {max}.");
        return bad is null;
    }

    private static IResult QueueError(int status, string code, string message)
    {
        var body = new XElement("Error", new XElement("Code", code), new XElement("Message", message));
        return new QueueErrorResult(status, code, "<?xml version=\"1.0\" encoding=\"utf-8\"?>" + body.ToString(SaveOptions.DisableFormatting));
    }

    private sealed class QueueErrorResult(int status, string code, string body) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.Headers["x-ms-error-code"] = code;
            httpContext.Response.ContentType = "application/xml";
            return httpContext.Response.WriteAsync(body, Encoding.UTF8);
        }
    }

    private static string Rfc1123(DateTimeOffset value) => value.ToString("r", CultureInfo.InvariantCulture);

    /// <summary>
    /// Test surface: enqueues a clawback event. Body: <c>eventState</c> (required), and <c>orderId</c>, or <c>userId</c>
    /// with <c>productId</c> to take the order of that user's seeded item (its <c>transactionId</c>); optional
    /// <c>source</c>, <c>productId</c>, <c>productType</c>, <c>skuId</c>, <c>lineItemId</c>, <c>sandboxId</c>, <c>id</c>.
    /// <c>rawMessageText</c> enqueues that text as is (a malformed message).
    /// </summary>
    private static async Task<IResult> EnqueueAsync(HttpContext ctx, EmulatorState state)
    {
        var (body, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.JsonObject);
        if (body is null) return bad!;
        string? Text(string name) => body[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        if (Text("rawMessageText") is { } raw)
            return Results.Json(new JsonObject { ["messageId"] = state.ClawbackQueue.Enqueue(raw) }, EmulatorJson.Default.JsonObject, statusCode: 201);

        var eventState = Text("eventState");
        if (eventState is null || !EventStates.Contains(eventState, StringComparer.Ordinal))
            return StoreHttp.Error(400, "BadRequest", "eventState must be one of " + string.Join(", ", EventStates) + ".");
        var source = Text("source") ?? "/Purchase/Refund";
        if (!Sources.Contains(source, StringComparer.Ordinal))
            return StoreHttp.Error(400, "BadRequest", "source must be /Purchase/Refund or /Purchase/Chargeback.");
        var productId = Text("productId");
        var orderId = Text("orderId");
        JsonObject? item = null;
        if (orderId is null)
        {
            if (Text("userId") is not { } userId || productId is null)
                return StoreHttp.Error(400, "BadRequest", "orderId, or userId with productId, is required.");
            item = state.GetEntitlements(userId).FirstOrDefault(i => (string?)i["productId"] == productId && i["transactionId"] is not null);
            if (item is null)
                return StoreHttp.Error(404, "NotFound", $"User {userId} has no seeded item of {productId} with a transactionId (its order).");
            orderId = (string)item["transactionId"]!;
        }

        var now = state.Time.GetUtcNow();
        var id = Text("id") ?? Guid.NewGuid().ToString();
        var clawback = new JsonObject
        {
            ["id"] = id,
            ["source"] = source,
            ["type"] = "ClawbackEventContractV2",
            ["data"] = new JsonObject
            {
                ["lineItemId"] = Text("lineItemId") ?? Guid.NewGuid().ToString(),
                ["orderId"] = orderId,
                ["productId"] = productId ?? "9NBLGGH42CFD",
                ["productType"] = Text("productType") ?? (string?)item?["productKind"] ?? "UnmanagedConsumable",
                ["purchasedDate"] = (item?["acquiredDate"]?.GetValue<string>()) ?? now.AddDays(-2).ToString("O", CultureInfo.InvariantCulture),
                ["eventDate"] = now.ToString("O", CultureInfo.InvariantCulture),
                ["eventState"] = eventState,
                ["sandboxId"] = Text("sandboxId") ?? "RETAIL",
                ["skuId"] = Text("skuId") ?? (string?)item?["skuId"] ?? "0010",
            },
            ["time"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["specversion"] = "1.0",
            ["datacontenttype"] = "application/json",
            ["subject"] = source + "/" + Guid.NewGuid(),
            ["traceparent"] = "00-" + Guid.NewGuid().ToString("N") + "-" + Guid.NewGuid().ToString("N")[..16] + "-00",
        };
        var text = Convert.ToBase64String(Encoding.UTF8.GetBytes(clawback.ToJsonString()));
        var messageId = state.ClawbackQueue.Enqueue(text);
        return Results.Json(new JsonObject { ["messageId"] = messageId, ["event"] = clawback }, EmulatorJson.Default.JsonObject, statusCode: 201);
    }
}
