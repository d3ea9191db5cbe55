using EntitlementGateway.Infrastructure.Logging;
using Microsoft.Extensions.Options;

namespace EntitlementGateway.Security;

/// <summary>Says at start-up when the game client is trusted with the budget key, so the opt-out never goes unnoticed.</summary>
internal sealed partial class PlayerBindingStartup(IOptions<PlayerAuthOptions> options, ILogger<PlayerBindingStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.TrustGameClient) LogClientTrusted(logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = EventIds.GameClientTrusted, EventName = nameof(EventIds.GameClientTrusted), Level = LogLevel.Warning, Message =
        "Player binding is off (PlayerAuth:TrustGameClient=true): the budget key is the userId the game client put in its UCID, so a modified client can spend other players' budgets. Set PlayerAuth:Enabled=true to bind UCIDs to signed-in players.")]
    private static partial void LogClientTrusted(ILogger logger);
}
