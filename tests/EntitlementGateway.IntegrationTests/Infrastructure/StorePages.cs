namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>Store answers written by hand, for Stores the tests write byte by byte.</summary>
public static class StorePages
{
    /// <summary>A last page (no continuationToken) with one active durable, 9N30KZZF4BR9, in the documented shape.</summary>
    public const string OneDurable =
        """{"items":[{"acquiredDate":"2021-08-30T21:53:08+00:00","acquisitionType":"Single","endDate":"9999-12-31T23:59:59+00:00","id":"1046015f83a8478397064c915224e5d3","productId":"9N30KZZF4BR9","productKind":"Durable","quantity":1,"satisfiedByProductIds":[],"skuId":"0010","startDate":"2021-08-30T21:53:07+00:00","status":"Active","trialData":{"isInTrialPeriod":false,"isTrial":false}}]}""";
}
