using System.Text.Json;
using EntitlementGateway.Api;
using Microsoft.AspNetCore.Diagnostics;
using EntitlementGateway.Infrastructure.Logging;
using EntitlementGateway.Infrastructure.Http;

namespace EntitlementGateway.Hosting;

/// <summary>
/// Turns what escapes a handler into problem details: unreadable bodies become a 4xx that says what is wrong,
/// anything else a 500 with no internals.
/// </summary>
public sealed partial class GatewayExceptionHandler(IProblemDetailsService problems, ILogger<GatewayExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // The client went away: nobody reads an answer, and it is not a server error.
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            context.Response.StatusCode = 499;
            return true;
        }

        // A well-formed body with a value of the wrong type: the field is named, as the validation names fields.
        var wrongField = exception is BadHttpRequestException { InnerException: JsonException typed } && !IsSyntaxError(typed) ? FieldOf(typed.Path) : null;
        var (status, code, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: 413 } => (413, GatewayProblems.RequestTooLarge, "The request body is too large.",
                $"The request body is larger than {RequestLimitsMiddleware.MaxBodyBytes / 1024} KiB."),
            BadHttpRequestException when wrongField is not null =>
                (400, GatewayProblems.InvalidRequest, "The request is not valid.", $"One or more fields are not valid: {wrongField}."),
            BadHttpRequestException { InnerException: JsonException json } =>
                (400, GatewayProblems.InvalidRequest, "The request body is not valid JSON.", WhereItBreaks(json)),
            BadHttpRequestException bad => (bad.StatusCode, GatewayProblems.InvalidRequest, "The request is not valid.", Describe(bad)),
            _ => (500, GatewayProblems.InternalError, "An unexpected error occurred.", "The gateway failed to handle the request; it has been logged."),
        };
        if (status == 500) LogUnhandled(logger, exception.GetType().Name, RequestLoggingMiddleware.LoggedPath(context.Request.Path.Value is { Length: > 0 } path ? path : "/"), exception);

        context.Response.StatusCode = status;
        var problem = wrongField is not null
            ? new HttpValidationProblemDetails(new Dictionary<string, string[]> { [wrongField] = [WhatIsWrong(wrongField, (JsonException)exception.InnerException!)] })
            : new Microsoft.AspNetCore.Mvc.ProblemDetails();
        problem.Status = status;
        problem.Title = title;
        problem.Detail = detail;
        problem.Extensions["code"] = code;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception, ProblemDetails = problem });
    }

    /// <summary>Where a body that is not this operation's JSON stops being readable, and why when the reader says.</summary>
    internal static string WhereItBreaks(JsonException json) =>
        json.InnerException?.Message.Contains("maximum configured depth", StringComparison.Ordinal) == true
            // 64: the serializer's default depth, which the request contracts keep.
            ? $"The body nests objects and arrays more than 64 levels deep (at '{json.Path}')."
            : json.Path is { Length: > 0 } path
                ? $"The body could not be read as this operation's JSON at '{path}'."
                : "The body could not be read as this operation's JSON.";

    /// <summary>
    /// What is wrong with a field the converters refused. The serializer says it only in its exception's shape and text:
    /// a repeated name has no inner exception, a number out of range (or not whole) a FormatException, and text that is
    /// not Unicode (an escaped lone surrogate) an InvalidOperationException that names UTF.
    /// </summary>
    internal static string WhatIsWrong(string field, JsonException json) => json switch
    {
        { InnerException: null } when json.Message.StartsWith("Duplicate property", StringComparison.Ordinal) =>
            $"{field} is given more than once (names match in any letter case).",
        { InnerException: FormatException } => $"{field} is not a whole number in the range it takes, written without a fraction or exponent.",
        { InnerException: InvalidOperationException text } when text.Message.Contains("UTF", StringComparison.Ordinal) =>
            $"{field} is not valid Unicode text (an escaped lone surrogate such as \\ud800).",
        _ => $"{field} has a value of the wrong JSON type (each field's type is in /openapi/v1.json).",
    };

    /// <summary>The reader's own errors (the text is not JSON) come wrapped around its exception; a value of the wrong
    /// type for a well-formed body comes from the converters, without it.</summary>
    internal static bool IsSyntaxError(JsonException json) => json.InnerException?.GetType().Name == "JsonReaderException";

    /// <summary>A JSON path ($.products[1].skuId) as the validation names fields (products[1].skuId); null for the root.</summary>
    internal static string? FieldOf(string? path) =>
        path is { Length: > 2 } && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;

    // The framework's messages name parameters and content types, never body values.
    private static string Describe(BadHttpRequestException bad) => bad.StatusCode switch
    {
        415 when bad.Message.Contains("charset", StringComparison.Ordinal) =>
            "The body's declared charset is not one the gateway reads (UTF-8, UTF-16 or UTF-32); send UTF-8 (Content-Type: application/json).",
        415 when bad.Message.Contains("Content-Encoding", StringComparison.Ordinal) =>
            "The body must be sent uncompressed: the gateway reads no Content-Encoding.",
        415 => "The body must be JSON (Content-Type: application/json).",
        408 => $"The request body was not sent in time: send the whole body at once after the headers (it must arrive whole within {JsonBody.BodyDeadline.TotalSeconds:0} s).",
        _ when bad.Message.Contains("was not provided", StringComparison.Ordinal) => "A JSON request body is required.",
        _ when bad.InnerException is IOException => "The request body could not be read: its transfer framing (chunked encoding or Content-Length) is broken.",
        _ => "The request could not be read.",
    };

    [LoggerMessage(EventId = EventIds.UnhandledException, EventName = nameof(EventIds.UnhandledException), Level = LogLevel.Error, Message = "Unhandled {ExceptionType} on {Path}")]
    private static partial void LogUnhandled(ILogger logger, string exceptionType, string path, Exception exception);
}
