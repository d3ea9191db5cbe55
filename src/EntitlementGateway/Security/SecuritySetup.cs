using Microsoft.AspNetCore.Authentication.JwtBearer;
using System.Globalization;
using System.Threading.RateLimiting;
using EntitlementGateway.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using EntitlementGateway.Infrastructure.Http;
using EntitlementGateway.Infrastructure;

namespace EntitlementGateway.Security;

/// <summary>Per-client-IP limits on the public endpoints (section <c>ClientLimits</c>).</summary>
public sealed class ClientLimitsOptions
{
    public const string Section = "ClientLimits";
    public const string Policy = "per-client-ip";

    /// <summary>Requests one client IP may make per window on /v1; 0 turns the limiter off.</summary>
    public int PermitLimit { get; set; } = 300;
    public int WindowSeconds { get; set; } = 60;

    /// <summary>
    /// Most partitions the limiter keeps. Clients are hashed into this many buckets, so memory stays bounded however
    /// many addresses send requests; clients that share a bucket share its limit.
    /// </summary>
    public int MaxPartitions { get; set; } = 16_384;

    /// <summary>Replaced by ForwardedHeaders:KnownProxies / KnownNetworks; kept only to refuse it with a pointer.</summary>
    public bool TrustForwardedHeaders { get; set; }
}

public sealed class ClientLimitsOptionsValidator : IValidateOptions<ClientLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, ClientLimitsOptions o) => new OptionsErrors(ClientLimitsOptions.Section)
        .Range(nameof(o.PermitLimit), o.PermitLimit, 0, 1_000_000)
        .Range(nameof(o.WindowSeconds), o.WindowSeconds, 1, 3600)
        .Range(nameof(o.MaxPartitions), o.MaxPartitions, 1, 1_000_000)
        .Require(!o.TrustForwardedHeaders, "ClientLimits:TrustForwardedHeaders is replaced by ForwardedHeaders:KnownProxies and ForwardedHeaders:KnownNetworks: " +
            "name the load balancer's addresses so only its X-Forwarded-For is believed.")
        .Result;
}

/// <summary>Authentication, authorization and abuse limits, in one place.</summary>
public static class SecuritySetup
{
    public static WebApplicationBuilder AddGatewaySecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<PlayerAuthOptions, PlayerAuthOptionsValidator>(PlayerAuthOptions.Section);
        services.AddValidatedOptions<OpsOptions, OpsOptionsValidator>(OpsOptions.Section);
        services.AddValidatedOptions<ClientLimitsOptions, ClientLimitsOptionsValidator>(ClientLimitsOptions.Section);
        services.AddValidatedOptions<ForwardedHeadersSettings, ForwardedHeadersSettingsValidator>(ForwardedHeadersSettings.Section);
        services.AddSingleton<PlayerBinding>();
        services.AddHostedService<PlayerBindingStartup>();

        // Every scheme and policy is registered; what they check comes from the validated options when first used.
        services.AddAuthentication()
            .AddJwtBearer(PlayerAuthOptions.Scheme)
            .AddScheme<AuthenticationSchemeOptions, OpsApiKeyHandler>(OpsOptions.ApiKeyScheme, null)
            .AddJwtBearer(OpsOptions.JwtScheme);
        // AddAuthentication brings data protection for cookie and remote schemes, which this service has none of, and a
        // hosted service that loads its key ring at start: an XML stack read in (about 4 MB of the process) to read or
        // write a key file nothing uses. Without the warm-up the ring is only loaded if something ever protects data.
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHostedService) &&
                services[i].ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService")
                services.RemoveAt(i);
        }
        services.AddOptions<JwtBearerOptions>(PlayerAuthOptions.Scheme).Configure<IOptions<PlayerAuthOptions>>((jwt, options) =>
        {
            var player = options.Value;
            if (player.Enabled)
                JwtValidation.Apply(jwt, player.Authority, player.Issuer, player.Audience, player.SigningKeyPem, player.RequireHttpsMetadata, player.PlayerIdClaim);
        });
        services.AddOptions<JwtBearerOptions>(OpsOptions.JwtScheme).Configure<IOptions<OpsOptions>>((jwt, options) =>
        {
            var ops = options.Value;
            if (ops.HasJwt) JwtValidation.Apply(jwt, ops.Authority, ops.Issuer, ops.Audience, ops.SigningKeyPem, ops.RequireHttpsMetadata, "name");
        });

        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<PlayerAuthOptions>, IOptions<OpsOptions>>((authorization, playerOptions, opsOptions) =>
        {
            var player = playerOptions.Value;
            var ops = opsOptions.Value;
            authorization.AddPolicy(PlayerAuthOptions.Policy, policy =>
            {
                if (player.Enabled) policy.AddAuthenticationSchemes(PlayerAuthOptions.Scheme).RequireAuthenticatedUser();
                else policy.RequireAssertion(_ => true);
            });
            authorization.AddPolicy(OpsOptions.Policy, policy => policy
                .AddAuthenticationSchemes(ops.HasJwt ? [OpsOptions.ApiKeyScheme, OpsOptions.JwtScheme] : [OpsOptions.ApiKeyScheme])
                .RequireAuthenticatedUser()
                .RequireRole(ops.RequiredRole));
        });

        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(ClientLimitsOptions.Policy, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<ClientLimitsOptions>>().Value;
                if (limits.PermitLimit == 0) return RateLimitPartition.GetNoLimiter(-1);
                // A bucket number, not the address: the limiter holds at most MaxPartitions limiters.
                var bucket = ClientPartition.Bucket(context.Connection.RemoteIpAddress, limits.MaxPartitions);
                return RateLimitPartition.GetFixedWindowLimiter(bucket, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PermitLimit,
                    Window = TimeSpan.FromSeconds(limits.WindowSeconds),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                GatewayProblems.SetRetryAfter(context.HttpContext.Response, retryAfter);
                await GatewayProblems.Create(429, GatewayProblems.TooManyRequests, "Too many requests from this client.",
                        $"This client sent too many requests; retry after {GatewayProblems.WholeSeconds(retryAfter).ToString(CultureInfo.InvariantCulture)} s.")
                    .ExecuteAsync(context.HttpContext);
            };
        });
        return builder;
    }

    /// <summary>Forwarded headers (from known proxies only), then authentication, authorization, the rate limiter and the API-description guard.</summary>
    public static WebApplication UseGatewaySecurity(this WebApplication app)
    {
        var forwarded = app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value;
        if (forwarded.Configured) app.UseForwardedHeaders(ClientPartition.ForwardedOptions(forwarded));
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.Use(GuardApiDescriptionAsync);
        return app;
    }

    public static SwaggerAccess SwaggerAccessFor(OpsOptions ops, IHostEnvironment environment) =>
        ops.Swagger ?? (environment.IsProduction() ? (ops.HasAuthentication ? SwaggerAccess.Protected : SwaggerAccess.Off) : SwaggerAccess.Public);

    // Swagger UI and the OpenAPI document are static resources, not endpoints with metadata: guard them by path.
    private static async Task GuardApiDescriptionAsync(HttpContext context, Func<Task> next)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments(Hosting.OpenApiSetup.SwaggerPath) && !path.StartsWithSegments("/openapi"))
        {
            await next();
            return;
        }
        var services = context.RequestServices;
        var access = SwaggerAccessFor(services.GetRequiredService<IOptions<OpsOptions>>().Value, services.GetRequiredService<IHostEnvironment>());
        if (access == SwaggerAccess.Off)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        // Protected guards the document. The UI's page and scripts are the stock Swagger UI and hold nothing of the
        // gateway; a browser cannot send a header when it opens them, so they are served, and the page asks for the
        // key before it fetches the document (OpenApiSetup).
        if (access == SwaggerAccess.Protected && path.StartsWithSegments("/openapi"))
        {
            var authorization = await services.GetRequiredService<IAuthorizationService>().AuthorizeAsync(
                await AuthenticateOpsAsync(context), OpsOptions.Policy);
            if (!authorization.Succeeded)
            {
                await GatewayProblems.Create(401, "unauthorized", "Authentication required.",
                    $"The API description needs an operator token or the {OpsOptions.ApiKeyHeader} header.").ExecuteAsync(context);
                return;
            }
        }
        await next();
    }

    private static async Task<System.Security.Claims.ClaimsPrincipal> AuthenticateOpsAsync(HttpContext context)
    {
        var apiKey = await context.AuthenticateAsync(OpsOptions.ApiKeyScheme);
        if (apiKey.Succeeded) return apiKey.Principal;
        var schemes = context.RequestServices.GetRequiredService<IAuthenticationSchemeProvider>();
        if (await schemes.GetSchemeAsync(OpsOptions.JwtScheme) is not null)
        {
            var jwt = await context.AuthenticateAsync(OpsOptions.JwtScheme);
            if (jwt.Succeeded) return jwt.Principal;
        }
        return new System.Security.Claims.ClaimsPrincipal();
    }
}
