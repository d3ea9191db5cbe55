using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using EntitlementGateway.Emulator;
using EntitlementGateway.IntegrationTests.Infrastructure;
using EntitlementGateway.IntegrationTests.Security.Fuzz;
using Microsoft.AspNetCore.TestHost;
using Xunit.Abstractions;

namespace EntitlementGateway.IntegrationTests.Security;

/// <summary>
/// Seeded fuzzing of the two endpoints that take a UCID, through the gateway's real ASP.NET pipeline (in-process
/// server) to the Store emulator over real HTTPS. Replay a failure with <c>FUZZ_SEED=&lt;seed&gt;</c>.
/// </summary>
[Collection(IsolatedCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Cases = 10_000;
    private EmulatorServer _emulator = null!;
    private StoreWorld _store = null!;

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorServer.StartAsync(new EmulatorOptions());
        _store = new StoreWorld(_emulator);
    }

    public async Task DisposeAsync()
    {
        _store.Dispose();
        await _emulator.DisposeAsync();
    }

    /// <summary>The seed: FUZZ_SEED when set (to replay), else today's date, so each day explores new cases and a day's failure replays.</summary>
    private static int Seed() => Environment.GetEnvironmentVariable("FUZZ_SEED") is { Length: > 0 } seed
        ? int.Parse(seed, CultureInfo.InvariantCulture)
        : int.Parse(DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    [Fact]
    public async Task TenThousandHostileRequests_NeverA5xx_AlwaysAProblemWithACode_AndOnlyWellFormedUcidsSpendOrCallTheStore()
    {
        var seed = Seed();
        output.WriteLine($"fuzz seed {seed} (replay: FUZZ_SEED={seed}), {Cases} cases");
        var observers = new GatewayObservers();
        await using var gateway = GatewayApplication.Live(_emulator, new Dictionary<string, string?>
        {
            ["ClientLimits:PermitLimit"] = "0", // one test client sends everything; the per-IP limit has its own tests
            ["Resilience:MaxRetries"] = "0",
            // Forged UCIDs of many players are refused by the Store: that is what the fuzz sends, not a sign that the
            // gateway's own credentials went bad (StoreUnauthorizedTests covers that reading).
            ["Store:SuspectCredentialsAfter"] = "10000",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await using var observed = gateway.WithWebHostBuilder(b => b.ConfigureTestServices(observers.Install));
        using var client = observed.CreateClient();

        var baseUcids = new List<string>();
        for (var i = 0; i < 8; i++) baseUcids.Add(await _store.MintUcidAsync($"fuzz-{i}"));
        baseUcids.Add(ForgedUcid.For("fuzz-forged", _emulator.Options.ClientId));
        var fuzzer = new RequestFuzzer(new Random(seed), baseUcids);
        var clientId = _emulator.Options.ClientId;
        var statuses = new SortedDictionary<int, int>();
        var reachedStore = 0;
        var stopwatch = Stopwatch.StartNew();

        for (var n = 0; n < Cases; n++)
        {
            var fuzzCase = fuzzer.Next(n);
            var (units, calls) = (observers.UnitsTaken, observers.StoreCalls);
            using var response = await client.SendAsync(Build(fuzzCase));
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            string Fail(string what) => $"seed {seed}, {fuzzCase}\n=> {status} {body}\n{what}";

            Assert.True(status < 500, Fail("a 5xx"));
            if (status >= 400)
            {
                Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", Fail("not problem+json"));
                using var problem = JsonDocument.Parse(body);
                Assert.True(problem.RootElement.TryGetProperty("code", out var code) && code.GetString() is { Length: > 0 }, Fail("no code"));
            }
            var spent = observers.UnitsTaken - units;
            var storeCalls = observers.StoreCalls - calls;
            if (spent > 0 || storeCalls > 0)
            {
                reachedStore++;
                var whyNot = WellFormedUcid.WhyNot(fuzzCase.Ucid, clientId, DateTimeOffset.UtcNow);
                Assert.True(whyNot is null, Fail($"spent {spent} units and made {storeCalls} Store calls for a UCID that is not well-formed ({whyNot})"));
            }
        }

        output.WriteLine($"{Cases} cases in {stopwatch.Elapsed.TotalSeconds:0.0} s; {reachedStore} reached the budget or the Store; statuses: " +
                         string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        Assert.True(reachedStore > 0, "no case was well-formed enough to reach the Store: the generator is too hostile to test the oracle");
        Assert.True(statuses.Keys.Count(s => s >= 400) >= 4, "the cases should meet several different refusals");
    }

    [Fact]
    public async Task HostileRequestsWithHostilePlayerTokens_OnABoundGateway_NeverA5xx_AlwaysAProblemWithACode()
    {
        const int cases = 2_000;
        var seed = Seed() + 1;
        output.WriteLine($"fuzz seed {seed} (replay: FUZZ_SEED={seed - 1}), {cases} cases with player binding on");
        using var idp = new TestTokens();
        using var otherIdp = new TestTokens();
        await using var gateway = GatewayApplication.Live(_emulator, new Dictionary<string, string?>
        {
            ["ClientLimits:PermitLimit"] = "0",
            ["Store:SuspectCredentialsAfter"] = "10000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["PlayerAuth:Enabled"] = "true",
            ["PlayerAuth:Issuer"] = TestTokens.Issuer,
            ["PlayerAuth:Audience"] = "game-api",
            ["PlayerAuth:SigningKeyPem"] = idp.PublicKeyPem,
        });
        using var client = gateway.CreateClient();
        var baseUcids = new List<string> { await _store.MintUcidAsync("bound-0"), ForgedUcid.For("bound-0", _emulator.Options.ClientId) };
        var random = new Random(seed);
        var fuzzer = new RequestFuzzer(random, baseUcids);
        string[] tokens =
        [
            idp.Create("game-api", new Dictionary<string, object> { ["sub"] = "bound-0" }),
            idp.Create("game-api", new Dictionary<string, object> { ["sub"] = "someone-else" }),
            idp.Create("game-api", new Dictionary<string, object> { ["sub"] = 42 }),
            idp.Create("game-api", new Dictionary<string, object> { ["sub"] = new[] { "bound-0", "x" } }),
            idp.Create("game-api", new Dictionary<string, object> { ["name"] = "no-sub" }),
            idp.Create("other-api", new Dictionary<string, object> { ["sub"] = "bound-0" }),
            idp.Create("game-api", new Dictionary<string, object> { ["sub"] = "bound-0" }, TimeSpan.FromMinutes(-10), DateTime.UtcNow.AddMinutes(-30)),
            otherIdp.Create("game-api", new Dictionary<string, object> { ["sub"] = "bound-0" }),
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJib3VuZC0wIn0.",
        ];
        var statuses = new SortedDictionary<int, int>();

        for (var n = 0; n < cases; n++)
        {
            var fuzzCase = fuzzer.Next(n);
            using var request = Build(fuzzCase);
            request.Headers.Remove("Authorization");
            var token = tokens[random.Next(tokens.Length)];
            var authorization = random.Next(6) switch
            {
                0 => null,
                1 => "Bearer " + new UcidMutator(random).Mutate(token),
                2 => random.Next(2) == 0 ? token : "bearer  " + token + " ",
                _ => "Bearer " + token,
            };
            if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            string Fail(string what) => $"seed {seed}, {fuzzCase}, Authorization: {authorization}\n=> {status} {body}\n{what}";

            Assert.True(status < 500, Fail("a 5xx"));
            if (status < 400) continue;
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", Fail("not problem+json"));
            using var problem = JsonDocument.Parse(body);
            Assert.True(problem.RootElement.TryGetProperty("code", out var code) && code.GetString() is { Length: > 0 }, Fail("no code"));
        }

        output.WriteLine("statuses: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        Assert.Contains(401, statuses.Keys);
        Assert.Contains(403, statuses.Keys);
    }

    private static HttpRequestMessage Build(FuzzCase fuzzCase)
    {
        var content = new ByteArrayContent(fuzzCase.Body);
        if (fuzzCase.ContentType is { } type) content.Headers.TryAddWithoutValidation("Content-Type", type);
        var request = new HttpRequestMessage(HttpMethod.Post, fuzzCase.Path) { Content = content };
        foreach (var (name, value) in fuzzCase.Headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }
}
