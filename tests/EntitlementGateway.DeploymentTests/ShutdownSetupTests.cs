using System.Net;
using EntitlementGateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.DeploymentTests;

/// <summary><see cref="ShutdownSetup.AddGracefulShutdown"/> on a real Kestrel: readiness turns 503 at once, in-flight work finishes.</summary>
public sealed class ShutdownSetupTests
{
    private static WebApplication Build(Dictionary<string, string?> settings, TaskCompletionSource? slowStarted = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddGracefulShutdown();
        builder.Services.AddGatewayHealthChecks();
        var app = builder.Build();
        app.MapGatewayHealthChecks();
        app.MapGet("/slow", async () =>
        {
            slowStarted?.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(3));
            return "done";
        });
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single() + "/");

    [Fact]
    public async Task Shutdown_timeout_defaults_to_25_seconds_and_is_configurable()
    {
        await using var byDefault = Build([]);
        Assert.Equal(TimeSpan.FromSeconds(25), byDefault.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        await using var configured = Build(new() { ["Hosting:ShutdownTimeoutSeconds"] = "12" });
        Assert.Equal(TimeSpan.FromSeconds(12), configured.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Theory]
    [InlineData("0", null)]
    [InlineData("25", "30")]
    [InlineData("abc", null)]
    public async Task Bad_settings_stop_the_start(string timeout, string? delay)
    {
        var settings = new Dictionary<string, string?> { ["Hosting:ShutdownTimeoutSeconds"] = timeout, ["Hosting:ShutdownDelaySeconds"] = delay };
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var app = Build(settings);
            await app.StartAsync();
            await app.StopAsync();
        });
        Assert.NotNull(error);
        Assert.Contains("Hosting:ShutdownTimeoutSeconds", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_stop_readiness_fails_at_once_while_the_request_in_flight_completes()
    {
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = Build(new() { ["Hosting:ShutdownDelaySeconds"] = "2", ["Hosting:ShutdownTimeoutSeconds"] = "20" }, slowStarted);
        await app.StartAsync();
        var address = Address(app);
        // Two clients: the one with the request in flight holds its connection; the probe opens new ones.
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        using var probe = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = address };
        Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("health/ready")).StatusCode);

        var slow = http.GetAsync("slow");
        await slowStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stopping = app.StopAsync(); // SIGTERM does the same, after firing ApplicationStopping

        using var ready = await probe.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("Shutting down", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var response = await slow;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("done", await response.Content.ReadAsStringAsync());
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));
        // Stopped: the port no longer accepts connections.
        await Assert.ThrowsAsync<HttpRequestException>(() => probe.GetAsync("health/live"));
    }
}
