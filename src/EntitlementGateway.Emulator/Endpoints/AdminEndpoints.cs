using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntitlementGateway.Emulator.Endpoints;

/// <summary>Observing and steering the emulator: stats, request audit, reset, faults, token revocation, its TLS certificate.</summary>
internal static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapGet("/stats", (EmulatorState state) => Results.Json(state.GetStats(), EmulatorJson.Default.StatsResponse));
        group.MapPost("/reset", (EmulatorState state) =>
        {
            state.Reset();
            return Results.NoContent();
        });
        group.MapGet("/requests", (EmulatorState state) => Results.Json(state.GetRequests(), AuditJson.Default.IReadOnlyListStoreRequestRecord));
        group.MapPost("/tokens/revoke", (EmulatorState state) =>
        {
            state.RevokeIssuedTokens();
            return Results.NoContent();
        });
        group.MapGet("/faults", (EmulatorState state) => Results.Json(state.Faults, EmulatorJson.Default.FaultSettings));
        group.MapPut("/faults", PutFaultsAsync);
        group.MapDelete("/faults", (EmulatorState state) =>
        {
            state.Faults = new FaultSettings();
            return Results.NoContent();
        });
        // Served over plain HTTP too, so a separately started gateway can fetch and pin the per-run certificate.
        group.MapGet("/certificate", (EmulatorState state) =>
            Results.Text(EmulatorTls.ExportPem(state.Certificate), "application/x-pem-file"));
    }

    private static async Task<IResult> PutFaultsAsync(HttpContext ctx, EmulatorState state)
    {
        var (faults, bad) = await StoreHttp.ReadJsonAsync(ctx, EmulatorJson.Default.FaultSettings);
        if (faults is null) return bad!;
        if (faults.Validate() is { } error) return StoreHttp.Error(400, "BadRequest", error);
        state.Faults = faults;
        return Results.Json(state.Faults, EmulatorJson.Default.FaultSettings);
    }
}
