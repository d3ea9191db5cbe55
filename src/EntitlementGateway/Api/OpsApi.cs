using EntitlementGateway.Budget;
using EntitlementGateway.Entitlements.Caching;
using EntitlementGateway.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Infrastructure.Logging;

namespace EntitlementGateway.Api;

/// <summary>
/// Operations endpoints under <c>/ops</c>: on with Ops:Enabled (unset: when an ops credential is configured), and always behind the Ops policy. What changes a
/// player's state takes a reason and writes one audit line naming the operator.
/// </summary>
public static partial class OpsApi
{
    private const string KeyDescription = "The key is user-{userId} (the UCID's userId), player-{id} (player binding on), xbl-{userhash} (an Xbox authorization) or ucid-{hash} (no userId).";

    public static WebApplication MapOpsApi(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<OpsOptions>>().Value.IsEnabled) return app;

        var group = app.MapGroup("/ops").WithTags("Operations").RequireAuthorization(OpsOptions.Policy);
        group.MapGet("/budgets/{userKey}", GetBudgetAsync)
            .WithName("GetBudget")
            .WithSummary("One player's Store budget")
            .WithDescription("Used and remaining units in the rolling window, the oldest unit's time and any block after a Store 429. " + KeyDescription)
            .Produces<BudgetSnapshot>()
            .ProducesOpsProblems(StatusCodes.Status400BadRequest);
        group.MapPost("/budgets/{userKey}/reset", ResetBudgetAsync)
            .WithName("ResetBudget")
            .WithSummary("Reset one player's Store budget")
            .WithDescription("Forgets every unit in the player's window and any block, on every replica (the shared budget). The reason is written to the audit log. " + KeyDescription)
            .Accepts<OpsActionRequest>("application/json")
            .Produces<BudgetSnapshot>()
            .ProducesOpsProblems(StatusCodes.Status400BadRequest);
        group.MapPost("/budgets/{userKey}/unblock", UnblockBudgetAsync)
            .WithName("UnblockBudget")
            .WithSummary("Lift a player's block after a Store 429")
            .WithDescription("The player may call the Store again at once; the units in the window stay. The reason is written to the audit log. " + KeyDescription)
            .Accepts<OpsActionRequest>("application/json")
            .Produces<BudgetSnapshot>()
            .ProducesOpsProblems(StatusCodes.Status400BadRequest);
        group.MapPost("/cache/players/{userKey}/drop", DropCachedAnswersAsync)
            .WithName("DropCachedAnswers")
            .WithSummary("Drop a player's cached answers")
            .WithDescription("Every cached answer of the player is dropped on every replica; the next query asks the Store (and spends budget). " + KeyDescription)
            .Accepts<OpsActionRequest>("application/json")
            .Produces<CacheDropResult>()
            .ProducesOpsProblems(StatusCodes.Status400BadRequest);
        group.MapOpsDiagnostics();
        return app;
    }

    /// <summary>What every ops endpoint may answer besides its own: 401, 403 and 503 (the budget store).</summary>
    internal static RouteHandlerBuilder ProducesOpsProblems(this RouteHandlerBuilder builder, params int[] ownStatuses)
    {
        foreach (var status in ownStatuses) builder.ProducesProblem(status);
        return builder
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    internal static async Task<Results<Ok<BudgetSnapshot>, ProblemHttpResult>> GetBudgetAsync(
        string userKey, HttpContext http, IUserBudget budget, CancellationToken cancellationToken)
    {
        userKey = KeyOf(http, userKey, BudgetKeySegment);
        if (InvalidKey(userKey) is { } invalid) return invalid;
        try
        {
            return TypedResults.Ok(await budget.GetAsync(userKey, cancellationToken));
        }
        catch (BudgetUnavailableException)
        {
            return BudgetUnavailable(http);
        }
    }

    internal static async Task<Results<Ok<BudgetSnapshot>, ProblemHttpResult>> ResetBudgetAsync(
        string userKey, HttpContext http, IUserBudget budget, ILogger<OpsAuditLog> audit, CancellationToken cancellationToken)
    {
        userKey = KeyOf(http, userKey, BudgetKeySegment);
        var request = await ReadActionAsync(http, cancellationToken);
        return await ChangeBudgetAsync(userKey, request, http, budget, cancellationToken, budget.ResetAsync,
            (operatorName, reason) => LogBudgetReset(audit, userKey, operatorName, reason));
    }

    internal static async Task<Results<Ok<BudgetSnapshot>, ProblemHttpResult>> UnblockBudgetAsync(
        string userKey, HttpContext http, IUserBudget budget, ILogger<OpsAuditLog> audit, CancellationToken cancellationToken)
    {
        userKey = KeyOf(http, userKey, BudgetKeySegment);
        var request = await ReadActionAsync(http, cancellationToken);
        return await ChangeBudgetAsync(userKey, request, http, budget, cancellationToken, budget.UnblockAsync,
            (operatorName, reason) => LogBudgetUnblocked(audit, userKey, operatorName, reason));
    }

    /// <summary>
    /// The action's body, read as the player endpoints read theirs (charsets, invalid UTF-8, wrong JSON types all answer
    /// a 4xx problem): the framework's own binding answers 500 for a charset it does not know.
    /// </summary>
    private static ValueTask<OpsActionRequest> ReadActionAsync(HttpContext http, CancellationToken cancellationToken) =>
        JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.OpsActionRequest, cancellationToken);

    private static async Task<Results<Ok<BudgetSnapshot>, ProblemHttpResult>> ChangeBudgetAsync(
        string userKey, OpsActionRequest request, HttpContext http, IUserBudget budget, CancellationToken cancellationToken,
        Func<string, CancellationToken, ValueTask> change, Action<string, string> writeAudit)
    {
        if ((InvalidKey(userKey) ?? InvalidReason(request)) is { } invalid) return invalid;
        try
        {
            await change(userKey, cancellationToken);
            writeAudit(OperatorName(http), request.Reason!.Trim());
            return TypedResults.Ok(await budget.GetAsync(userKey, cancellationToken));
        }
        catch (BudgetUnavailableException)
        {
            return BudgetUnavailable(http);
        }
    }

    internal static async Task<Results<Ok<CacheDropResult>, ProblemHttpResult>> DropCachedAnswersAsync(
        string userKey, HttpContext http, ResultCache cache, ILogger<OpsAuditLog> audit, CancellationToken cancellationToken)
    {
        userKey = KeyOf(http, userKey, CacheKeySegment);
        var request = await ReadActionAsync(http, cancellationToken);
        if ((InvalidKey(userKey) ?? InvalidReason(request)) is { } invalid) return invalid;
        var everywhere = await cache.DropPlayerAsync(userKey, cancellationToken);
        LogCacheDropped(audit, userKey, OperatorName(http), everywhere, request.Reason!.Trim());
        return TypedResults.Ok(new CacheDropResult(userKey, everywhere, everywhere
            ? "Dropped on every replica; the player's next query asks the Store."
            : "Dropped on this replica only: Redis did not answer, so other replicas serve theirs until Cache:Ttl ends."));
    }

    // Where the key is among the raw path's segments: /ops/budgets/{userKey}..., /ops/cache/players/{userKey}/drop.
    private const int BudgetKeySegment = 3;
    private const int CacheKeySegment = 4;

    /// <summary>
    /// The key as the client wrote it. Routing decodes every escape of a segment but <c>%2F</c>, so a key holding '/'
    /// (a userId may) arrives as "%2F", and so does one holding the text "%2F" (sent as <c>%252F</c>): looked up as is,
    /// the first would read and reset a budget nobody has. The raw request target's segment, decoded once, tells them apart.
    /// </summary>
    internal static string KeyOf(HttpContext http, string routeValue, int segment)
    {
        if (!routeValue.Contains('%', StringComparison.Ordinal)) return routeValue;
        var raw = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (raw is null || !raw.StartsWith('/')) return routeValue;
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? raw : raw[..query]).Split('/');
        // Only a segment that routing read as this value (dot segments or "//" would shift the count) is used.
        return segments.Length > segment && DecodedButSlashes(segments[segment]) == routeValue ? Uri.UnescapeDataString(segments[segment]) : routeValue;
    }

    /// <summary>A raw segment decoded as routing decodes it: every escape but <c>%2F</c>.</summary>
    private static string DecodedButSlashes(string raw)
    {
        var decoded = new System.Text.StringBuilder(raw.Length);
        var start = 0;
        for (var i = raw.IndexOf("%2F", StringComparison.OrdinalIgnoreCase); i >= 0; i = raw.IndexOf("%2F", start, StringComparison.OrdinalIgnoreCase))
        {
            decoded.Append(Uri.UnescapeDataString(raw[start..i])).Append(raw, i, 3);
            start = i + 3;
        }
        return decoded.Append(Uri.UnescapeDataString(raw[start..])).ToString();
    }

    // The key goes into the audit line as is: no control character may forge or hide a line there.
    /// <summary>A key of none of the budget key's forms is refused: looked up as is, a bare userId would show an empty
    /// budget for a player whose units are under <c>user-{userId}</c>.</summary>
    internal static ProblemHttpResult? InvalidKey(string userKey, string name = "userKey")
    {
        if (userKey.Length is 0 or > 256 || !IsOneLine(userKey))
            return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The key is not valid.", $"{name} must be 1 to 256 characters, none of them a control character or line break.");
        foreach (var prefix in KeyPrefixes)
            if (userKey.Length > prefix.Length && userKey.StartsWith(prefix, StringComparison.Ordinal)) return null;
        return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The key is not valid.", $"{name} must be a budget key: " + KeyDescription);
    }

    /// <summary>
    /// Text that stays one line in any log viewer: no control character, no Unicode line or paragraph separator
    /// (U+2028, U+2029: some viewers break lines there) and no invisible format character (bidi overrides can make a
    /// line read as something else).
    /// </summary>
    internal static bool IsOneLine(string text)
    {
        foreach (var c in text)
        {
            if (char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.LineSeparator
                or System.Globalization.UnicodeCategory.ParagraphSeparator or System.Globalization.UnicodeCategory.Format)
                return false;
        }
        return true;
    }

    private static readonly string[] KeyPrefixes = ["user-", "player-", "xbl-", "ucid-"];

    /// <summary>The longest reason an ops action takes.</summary>
    internal const int MaxReasonLength = 500;

    /// <summary>One line of 1 to 500 characters: it goes into the audit log as is.</summary>
    internal static ProblemHttpResult? InvalidReason(OpsActionRequest? request)
    {
        var reason = request?.Reason?.Trim();
        if (reason is { Length: > 0 and <= MaxReasonLength } && IsOneLine(reason)) return null;
        return GatewayProblems.Create(400, GatewayProblems.InvalidRequest, "The request is not valid.", "One or more fields are not valid: reason.",
            new Dictionary<string, string[]> { ["reason"] = ["A reason of 1 to 500 characters on one line is required (it is written to the audit log)."] });
    }

    /// <summary>As the players' budget_unavailable, from the same table: status, title and Retry-After.</summary>
    private static ProblemHttpResult BudgetUnavailable(HttpContext http) =>
        Store.StoreFailureAnswers.Problem(http.Response, Store.StoreFailureKind.BudgetUnavailable, "Redis did not answer in time.", null);

    private static string OperatorName(HttpContext http) => http.User.Identity?.Name ?? "unknown";

    [LoggerMessage(EventId = EventIds.OpsBudgetReset, EventName = nameof(EventIds.OpsBudgetReset), Level = LogLevel.Warning, Message = "AUDIT budget reset for {UserKey} by {Operator}: {Reason}")]
    private static partial void LogBudgetReset(ILogger logger, string userKey, string @operator, string reason);

    [LoggerMessage(EventId = EventIds.OpsBudgetUnblocked, EventName = nameof(EventIds.OpsBudgetUnblocked), Level = LogLevel.Warning, Message = "AUDIT budget block lifted for {UserKey} by {Operator}: {Reason}")]
    private static partial void LogBudgetUnblocked(ILogger logger, string userKey, string @operator, string reason);

    [LoggerMessage(EventId = EventIds.OpsCacheDropped, EventName = nameof(EventIds.OpsCacheDropped), Level = LogLevel.Warning, Message = "AUDIT cached answers dropped for {UserKey} by {Operator} (every replica: {AllReplicas}): {Reason}")]
    // Parameters in the template's order: out of order, the gateway's Serilog output left {Operator} unfilled.
    private static partial void LogCacheDropped(ILogger logger, string userKey, string @operator, bool allReplicas, string reason);
}

/// <summary>The category of the ops audit lines (<c>EntitlementGateway.Api.OpsAuditLog</c>).</summary>
public sealed class OpsAuditLog;
