using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using EntitlementGateway.Store;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Records the body of every request the gateway's Collections client puts on the wire (each attempt, after the token
/// and resilience handlers), then lets it go on to the real emulator. The emulator keeps counts, not bodies, so this is
/// how a test sees what the gateway asked the Store.
/// </summary>
public sealed class StoreRequestRecorder
{
    private readonly ConcurrentQueue<(Uri Uri, JsonObject Body)> _requests = new();

    public IReadOnlyList<(Uri Uri, JsonObject Body)> Requests => _requests.ToArray();

    /// <summary>The gateway with this recorder as the innermost handler of its Collections client.</summary>
    public WebApplicationFactory<Program> Attach(WebApplicationFactory<Program> gateway) =>
        gateway.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddHttpClient<CollectionsClient>().AddHttpMessageHandler(() => new Handler(this))));

    private sealed class Handler(StoreRequestRecorder recorder) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "{}" : await request.Content.ReadAsStringAsync(cancellationToken);
            recorder._requests.Enqueue((request.RequestUri!, JsonNode.Parse(body)!.AsObject()));
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
