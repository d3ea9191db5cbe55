namespace EntitlementGateway.Api;

/// <summary>The problem answers an endpoint declares in the API description, grouped as they arise.</summary>
public static class ProblemResponses
{
    /// <summary>What any endpoint that calls the Store may answer: the statuses of the Store-failure table
    /// (429 budget, 502/503/504 Store), besides the endpoint's own 4xx.</summary>
    public static RouteHandlerBuilder ProducesStoreFailures(this RouteHandlerBuilder builder, params int[] ownStatuses)
    {
        foreach (var status in ownStatuses) builder.ProducesProblem(status);
        return builder
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
    }
}
