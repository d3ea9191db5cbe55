using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>One request the receiver got: its headers of interest and the exact body bytes.</summary>
public sealed record WebhookDelivery(string? EventId, string? Timestamp, string? Signature, string? ContentType, byte[] Body, int AnsweredStatus);

/// <summary>
/// A studio's webhook receiver on a loopback HTTP port (real Kestrel): keeps every request, and answers 500 to the
/// first <see cref="FailFirst"/> of them, 204 after.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _received;

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<WebhookDelivery> Deliveries { get; } = new();

    /// <summary>Requests to refuse with 500 before acknowledging.</summary>
    public int FailFirst { get; set; }

    public Uri Url { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRouting();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks/clawback", receiver.ReceiveAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver.Url = new Uri(address.TrimEnd('/') + "/hooks/clawback");
        return receiver;
    }

    /// <summary>The deliveries of one event, in arrival order.</summary>
    public IReadOnlyList<WebhookDelivery> Of(string eventId) => Deliveries.Where(d => d.EventId == eventId).ToList();

    private async Task ReceiveAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer);
        var status = Interlocked.Increment(ref _received) <= FailFirst ? 500 : 204;
        Deliveries.Enqueue(new WebhookDelivery(
            ctx.Request.Headers["X-EntitlementGateway-Event-Id"], ctx.Request.Headers["X-EntitlementGateway-Timestamp"],
            ctx.Request.Headers["X-EntitlementGateway-Signature"], ctx.Request.ContentType, buffer.ToArray(), status));
        ctx.Response.StatusCode = status;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
