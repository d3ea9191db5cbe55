using System.Net;
using EntitlementGateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EntitlementGateway.IntegrationTests.Browser;

/// <summary>
/// The ops console as an operator uses it: Swagger UI in a real headless Chromium, against the gateway on a real
/// Kestrel port (and the emulator over HTTPS behind it).
/// </summary>
public sealed class SwaggerUiBrowserTests : OwnEmulatorGatewayTests
{
    static SwaggerUiBrowserTests() => SetDefaultExpectTimeout(30_000);

    /// <summary>The gateway on Kestrel at a free loopback port; its address.</summary>
    private static Uri Serve(GatewayApplication gateway)
    {
        gateway.UseKestrel(0);
        gateway.StartServer();
        var address = gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
    }

    private static async Task<ILocator> OpenOperationAsync(IPage page, string tag, string operationId)
    {
        var operation = page.Locator($"#operations-{tag}-{operationId}");
        await operation.Locator(".opblock-summary").First.ClickAsync();
        await operation.Locator("button.try-out__btn").ClickAsync();
        return operation;
    }

    private static async Task<string> ExecuteAsync(ILocator operation, string expectedStatus)
    {
        await operation.Locator("button.execute").ClickAsync();
        var live = operation.Locator(".live-responses-table .response");
        await Expect(live.Locator(".response-col_status").First).ToHaveTextAsync(expectedStatus);
        return await live.Locator(".response-col_description").First.InnerTextAsync();
    }

    [Fact]
    public async Task SwaggerUi_AuthorizeWithTheOpsKey_ThenTryItOut_RunsAQueryAndOpsCalls()
    {
        await using var gateway = Gateway();
        var baseAddress = Serve(gateway);
        var user = GatewayQueries.NewUser();
        await World.SeedAsync(user, StoreWorld.Item("9N30KZZF4BR9"));
        var ucid = await World.MintUcidAsync(user);

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.Context.NewPageAsync();
        var opened = await page.GotoAsync(new Uri(baseAddress, "/swagger/index.html").ToString());
        Assert.Equal((int)HttpStatusCode.OK, opened!.Status);
        await Expect(page.Locator("#operations-Operations-ResetBudget")).ToBeVisibleAsync();

        // Authorize: paste the key into the API key scheme.
        await page.Locator("button.btn.authorize").First.ClickAsync();
        var apiKey = page.Locator(".auth-container").Filter(new() { HasText = "OpsApiKey" });
        await apiKey.Locator("input").First.FillAsync(OpsKey);
        await apiKey.Locator("button.authorize").ClickAsync();
        await Expect(apiKey).ToContainTextAsync("Authorized");
        await page.Locator("button.btn-done").First.ClickAsync();

        // A query through Try it out.
        var query = await OpenOperationAsync(page, "Entitlements", "QueryEntitlements");
        await query.Locator("textarea.body-param__text").FillAsync(
            $$"""{ "userCollectionsId": "{{ucid}}", "products": [ { "productId": "9N30KZZF4BR9" } ] }""");
        var answer = await ExecuteAsync(query, "200");
        Assert.Contains("\"servedFrom\": \"upstream\"", answer, StringComparison.Ordinal);
        Assert.Contains("9N30KZZF4BR9", answer, StringComparison.Ordinal);

        // Ops calls with the key Swagger UI now sends.
        var budget = await OpenOperationAsync(page, "Operations", "GetBudget");
        await budget.Locator("tr[data-param-name='userKey'] input").FillAsync($"user-{user}");
        Assert.Contains("\"used\": 1", await ExecuteAsync(budget, "200"), StringComparison.Ordinal);

        var reset = await OpenOperationAsync(page, "Operations", "ResetBudget");
        await reset.Locator("tr[data-param-name='userKey'] input").FillAsync($"user-{user}");
        await reset.Locator("textarea.body-param__text").FillAsync("""{ "reason": "browser test: stuck player" }""");
        var afterReset = await ExecuteAsync(reset, "200");
        Assert.Contains("\"used\": 0", afterReset, StringComparison.Ordinal);

        var health = await OpenOperationAsync(page, "Operations", "GetStoreHealth");
        Assert.Contains("\"circuit\": \"Closed\"", await ExecuteAsync(health, "200"), StringComparison.Ordinal);

        await reset.ScreenshotAsync(new() { Path = HeadlessChromium.ScreenshotPath("swagger-ops-reset-budget.png") });
        await page.ScreenshotAsync(new() { Path = HeadlessChromium.ScreenshotPath("swagger-ops-console.png"), FullPage = true });
        Assert.Contains(gateway.Logs, l => l.Message.Contains("AUDIT budget reset", StringComparison.Ordinal) && l.Message.Contains("browser test: stuck player", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SwaggerUi_WhenProtected_AsksForTheKey_ShowsNothingWithoutIt_AndWorksWithIt()
    {
        await using var gateway = Gateway(new() { ["Ops:Swagger"] = "Protected" });
        var baseAddress = Serve(gateway);
        var swagger = new Uri(baseAddress, "/swagger/index.html").ToString();
        var user = GatewayQueries.NewUser();
        await World.SeedAsync(user, StoreWorld.Item("9N30KZZF4BR9"));
        using (var http = new HttpClient { BaseAddress = baseAddress })
        {
            // The document itself stays behind the key.
            using var document = await http.GetAsync("/openapi/v1.json");
            Assert.Equal(HttpStatusCode.Unauthorized, document.StatusCode);
        }

        await using (var declined = await HeadlessChromium.LaunchAsync())
        {
            var page = await declined.Context.NewPageAsync();
            var asked = 0;
            page.Dialog += async (_, dialog) => { asked++; await dialog.DismissAsync(); };
            var opened = await page.GotoAsync(swagger);
            Assert.Equal((int)HttpStatusCode.OK, opened!.Status);
            await Expect(page.Locator(".errors-wrapper").First).ToContainTextAsync("Unauthorized");
            Assert.Equal(0, await page.Locator("#operations-Operations-GetBudget").CountAsync());
            Assert.True(asked >= 1, "the page asks for the key");
            await page.ScreenshotAsync(new() { Path = HeadlessChromium.ScreenshotPath("swagger-protected-declined.png") });
        }

        // A plain browser, no header injected: the operator answers the page's question with the key.
        await using var operatorBrowser = await HeadlessChromium.LaunchAsync();
        var shown = await operatorBrowser.Context.NewPageAsync();
        shown.Dialog += async (_, dialog) => await dialog.AcceptAsync(OpsKey);
        Assert.Equal((int)HttpStatusCode.OK, (await shown.GotoAsync(swagger))!.Status);
        await Expect(shown.Locator("#operations-Operations-GetBudget")).ToBeVisibleAsync();

        var budget = await OpenOperationAsync(shown, "Operations", "GetBudget");
        await budget.Locator("tr[data-param-name='userKey'] input").FillAsync($"user-{user}");
        Assert.Contains("\"used\": 0", await ExecuteAsync(budget, "200"), StringComparison.Ordinal);
    }
}
