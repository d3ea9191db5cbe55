namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A test that stops, stalls or password-protects the redis-server it started: skipped (not passed) when
/// <c>REDIS_URL</c> points the tests at an outside server.
/// </summary>
public sealed class LocalRedisFactAttribute : FactAttribute
{
    public LocalRedisFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 })
        {
            Skip = "needs a redis-server started by the tests (REDIS_URL is set)";
        }
    }
}
