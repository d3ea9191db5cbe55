using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntitlementGateway.Budget;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static EntitlementGateway.IntegrationTests.Infrastructure.GatewayQueries;
using static EntitlementGateway.IntegrationTests.Infrastructure.StoreWorld;

namespace EntitlementGateway.IntegrationTests.Store;

/// <summary>A gateway with a sandbox configured, so tests can see it is left out of delegated calls.</summary>
public sealed class SandboxGatewayFixture : LiveGatewayFixture
{
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?> { ["Store:Sandbox"] = "XDKS.1" };
}

/// <summary>Queries made with the player's delegated Xbox authorization (XSTS) instead of a UCID, end to end.</summary>
public sealed class XboxAuthorizationTests(SandboxGatewayFixture fixture) : IClassFixture<SandboxGatewayFixture>
{
    private async Task<int> UsedAsync(string key) =>
        (await fixture.Gateway.Services.GetRequiredService<IUserBudget>().GetAsync(key)).Used;

    [Fact]
    public async Task XboxQuery_IsForwardedAsTheStoresAuthorizationAndSignature_WithoutBeneficiariesSandboxOrServiceToken()
    {
        var user = NewUser();
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9"), Item("9MXL21XPWWWK", "Revoked"));
        var xbox = await fixture.Store.MintXboxTokenAsync(user);
        var tokensBefore = fixture.Emulator.State.TokensIssued;
        var auditBefore = (await fixture.Store.RequestsAsync()).Count;

        using var response = await XboxQueryAsync(fixture.Client, xbox, Products("9N30KZZF4BR9", "9MXL21XPWWWK"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["9N30KZZF4BR9"], (await BodyAsync(response))["entitlements"]!.AsArray().Select(e => e!["productId"]!.GetValue<string>()));
        var sent = (await fixture.Store.RequestsAsync()).Skip(auditBefore).ToList();
        Assert.NotEmpty(sent);
        foreach (var record in sent)
        {
            Assert.Equal("XBL3.0", record!["authorizationScheme"]!.GetValue<string>());
            Assert.True(record["hasSignature"]!.GetValue<bool>());
            var body = JsonNode.Parse(record["body"]!.GetValue<string>())!.AsObject();
            Assert.Null(body["beneficiaries"]);
            Assert.Null(body["sbx"]);
        }
        Assert.Equal(fixture.Emulator.State.DelegatedCallsByUser[user], sent.Count(r => r!["status"]!.GetValue<int>() == 200));
        Assert.Equal(tokensBefore, fixture.Emulator.State.TokensIssued);
    }

    [Fact]
    public async Task XboxQuery_SpendsTheBudgetOfTheUserHash_NotOfAnyUcidKey()
    {
        var user = NewUser();
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var xbox = await fixture.Store.MintXboxTokenAsync(user);

        using var response = await XboxQueryAsync(fixture.Client, xbox, fresh: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var calls = (int)await fixture.Store.QueriesAsync(user);
        Assert.True(calls >= 1);
        Assert.Equal(calls, await UsedAsync("xbl-" + XboxTokens.UserHash(user)));
        Assert.Equal(0, await UsedAsync("user-" + user));
        Assert.StartsWith($"\"upstream\";r={100 - calls};", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task XboxQuery_TheSameTokenAgain_IsACacheHit_AndAnotherTokenOfTheSamePlayerIsNot()
    {
        var user = NewUser();
        await fixture.Store.SeedAsync(user, Item("9N30KZZF4BR9"));
        var xbox = await fixture.Store.MintXboxTokenAsync(user);
        using (var first = await XboxQueryAsync(fixture.Client, xbox)) Assert.Equal("upstream", await ServedFromAsync(first));
        using (var again = await XboxQueryAsync(fixture.Client, xbox)) Assert.Equal("cache", await ServedFromAsync(again));

        // Only the Store can check a token: a forged one with this player's user hash must never be served from the cache.
        var forged = (xbox.Authorization[..(xbox.Authorization.IndexOf(';') + 1)] + "AAAA.BBBB.CCCC", xbox.Signature);
        using var refused = await XboxQueryAsync(fixture.Client, forged);
        await AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "xbox_token_refused");
    }

    [Fact]
    public async Task XboxQuery_RefusedByTheStore_Is401_RefundsItsUnits_AndNeverRefreshesTheServiceToken()
    {
        var user = NewUser();
        var mine = await fixture.Store.MintXboxTokenAsync(user);
        var other = await fixture.Store.MintXboxTokenAsync(NewUser());
        var tokensBefore = fixture.Emulator.State.TokensIssued;

        for (var i = 0; i < 3; i++)
        {
            using var response = await XboxQueryAsync(fixture.Client, (mine.Authorization, other.Signature), fresh: true);
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "xbox_token_refused");
        }

        Assert.Equal(tokensBefore, fixture.Emulator.State.TokensIssued);
        Assert.Equal(0, await UsedAsync("xbl-" + XboxTokens.UserHash(user)));
        using var health = await fixture.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task XboxQuery_A403FromTheStore_IsThePlayersTokenRefused()
    {
        // With the player's own authorization, a 403 (like a 401) is about that token, unlike a UCID call's 403.
        var user = NewUser();
        var xbox = await fixture.Store.MintXboxTokenAsync(user);
        await fixture.Store.SetFaultsAsync(new { failNext = 1, failureStatus = 403, mode = "Status" });
        try
        {
            using var response = await XboxQueryAsync(fixture.Client, xbox, fresh: true);
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "xbox_token_refused");
        }
        finally
        {
            await fixture.Store.SetFaultsAsync(new { });
        }
    }

    [Theory]
    [InlineData("Bearer abc", "AAAAAQAAAAAAAAAAAAAAAA==", "invalid_xbox_authorization", "xbox.authorization")]
    [InlineData("XBL3.0 x=;token", "AAAAAQAAAAAAAAAAAAAAAA==", "invalid_xbox_authorization", "xbox.authorization")]
    [InlineData("XBL3.0 x=123;", "AAAAAQAAAAAAAAAAAAAAAA==", "invalid_xbox_authorization", "xbox.authorization")]
    [InlineData("XBL3.0 x=123;tok\r\nX-Evil: 1", "AAAAAQAAAAAAAAAAAAAAAA==", "invalid_xbox_authorization", "xbox.authorization")]
    [InlineData("XBL3.0 x=123;token", "not base64!", "invalid_xbox_signature", "xbox.signature")]
    [InlineData("XBL3.0 x=123;token", "", "invalid_xbox_signature", "xbox.signature")]
    public async Task XboxQuery_Malformed_Is400NamingTheField_BeforeAnyStoreCall(string authorization, string signature, string code, string field)
    {
        var storeCalls = StoreCalls(fixture.Emulator);

        using var response = await XboxQueryAsync(fixture.Client, (authorization, signature));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.NotNull(problem["errors"]![field]);
        if (authorization.Length > 12) Assert.DoesNotContain(authorization, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(storeCalls, StoreCalls(fixture.Emulator));
    }

    [Fact]
    public async Task Query_WithBothAUcidAndAnXboxAuthorization_Is400()
    {
        var user = NewUser();
        var xbox = await fixture.Store.MintXboxTokenAsync(user);
        using var response = await fixture.Client.PostAsJsonAsync("/v1/entitlements/query", new
        {
            userCollectionsId = await fixture.Store.MintUcidAsync(user),
            xbox = new { authorization = xbox.Authorization, signature = xbox.Signature },
            products = OneProduct,
        });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.NotNull(problem["errors"]!["xbox"]);
    }

    [Fact]
    public async Task XboxQuery_TheTokenIsNeverLogged()
    {
        var user = NewUser();
        var xbox = await fixture.Store.MintXboxTokenAsync(user);
        using (var response = await XboxQueryAsync(fixture.Client, xbox, fresh: true)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var token = xbox.Authorization[(xbox.Authorization.IndexOf(';') + 1)..];
        Assert.DoesNotContain(fixture.Gateway.Logs, l => l.Message.Contains(token[..40], StringComparison.Ordinal) || l.State.Contains(token[..40], StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Gateway.Logs, l => l.Message.Contains(xbox.Signature, StringComparison.Ordinal));
    }
}
