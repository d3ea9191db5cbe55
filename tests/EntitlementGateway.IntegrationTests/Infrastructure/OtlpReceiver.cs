using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>One OTLP/HTTP export as it arrived: which signal, its content type, its protobuf body.</summary>
public sealed record OtlpExport(string Signal, string? ContentType, byte[] Body)
{
    /// <summary>The body with its UTF-8 strings readable (names and attribute keys are plain strings in protobuf).</summary>
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A stand-in OpenTelemetry Collector: a real Kestrel server on loopback taking OTLP/HTTP POSTs at /v1/metrics and
/// /v1/traces. It keeps what arrives without decoding the protobuf (no protobuf package restores here).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<OtlpExport> Exports { get; } = new();

    public Uri Endpoint { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            receiver.Exports.Enqueue(new OtlpExport(signal, request.ContentType, body.ToArray()));
            // An empty ExportServiceResponse is a valid protobuf answer: zero bytes.
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Endpoint = new Uri(address);
        return receiver;
    }

    public IEnumerable<OtlpExport> Of(string signal) => Exports.Where(e => e.Signal == signal);

    /// <summary>Waits until <paramref name="done"/> holds for what has arrived, or fails after <paramref name="patience"/>.</summary>
    public async Task WaitUntilAsync(Func<OtlpReceiver, bool> done, TimeSpan patience, string what)
    {
        using var deadline = new CancellationTokenSource(patience);
        while (!done(this))
        {
            if (deadline.IsCancellationRequested) Assert.Fail($"the OTLP receiver never saw {what}; it got {Exports.Count} exports");
            await Task.Delay(100, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
