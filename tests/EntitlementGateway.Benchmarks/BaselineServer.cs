using System.Text.Json;
using System.Text.Json.Serialization;
using EntitlementGateway.Api;
using EntitlementGateway.Entitlements;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EntitlementGateway.Benchmarks;

/// <summary>
/// The yardstick of the <c>http</c> benchmark: a bare ASP.NET Core minimal API on the same machine, taking the gateway's
/// request body (bound through source-generated JSON) and answering the same-sized JSON a cache hit answers. No logging,
/// no middleware: what Kestrel and minimal APIs cost on their own. Run as its own process: <c>http-baseline-server --port N</c>.
/// </summary>
internal static class BaselineServer
{
    public const string ReadyPath = "/ready";

    /// <summary>What a player of the benchmark owns, as the gateway answers it (two durables).</summary>
    public static EntitlementQueryResponse Answer(string servedFrom) => new(
    [
        Owned(HttpWorld.Products[1]),
        Owned(HttpWorld.Products[0]),
    ], servedFrom);

    private static Entitlement Owned(string productId) => new(productId, "0010", "Durable", "Single", 1,
        DateTimeOffset.Parse(HttpWorld.StartDate, System.Globalization.CultureInfo.InvariantCulture),
        DateTimeOffset.Parse(HttpWorld.EndDate, System.Globalization.CultureInfo.InvariantCulture),
        null, [], new TrialInfo(false, false, null));

    public static Task<int> RunAsync(ReadOnlySpan<string> args) =>
        RunAsync(args.Length == 2 && args[0] == "--port" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0);

    private static async Task<int> RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, BaselineJson.Default));
        await using var app = builder.Build();
        var answer = Answer("cache");
        app.MapPost("/v1/entitlements/query", (EntitlementQueryRequest request) => TypedResults.Ok(answer));
        app.MapGet(ReadyPath, () => "ready");
        await app.RunAsync();
        return 0;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(EntitlementQueryRequest))]
[JsonSerializable(typeof(EntitlementQueryResponse))]
[JsonSerializable(typeof(string))]
internal sealed partial class BaselineJson : JsonSerializerContext;
