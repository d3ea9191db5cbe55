using Microsoft.Playwright;

namespace EntitlementGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's chromium (<c>/usr/bin/chromium</c>, installed by .ci/install-deps.sh) driven by Playwright, headless, with a
/// fresh profile that is deleted afterwards. Playwright's own browser download cannot run on these machines.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly string _profile;

    private HeadlessChromium(IPlaywright playwright, IBrowserContext context, string profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    public IBrowserContext Context { get; }

    public static async Task<HeadlessChromium> LaunchAsync(IEnumerable<KeyValuePair<string, string>>? extraHeaders = null)
    {
        Assert.True(File.Exists(ExecutablePath), $"{ExecutablePath} is missing: apt-get install chromium (.ci/install-deps.sh does this)");
        var profile = Directory.CreateTempSubdirectory("eg-chromium-").FullName;
        var playwright = await Playwright.CreateAsync();
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Arguments,
            ExtraHTTPHeaders = extraHeaders,
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
        });
        context.SetDefaultTimeout(30_000);
        return new HeadlessChromium(playwright, context, profile);
    }

    /// <summary>Where screenshots go: TestResults/screenshots at the repository root, beside the CI's TRX files.</summary>
    public static string ScreenshotPath(string name)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EntitlementGateway.sln"))) root = root.Parent;
        var directory = Path.Combine(root?.FullName ?? AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, name);
    }

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        _playwright.Dispose();
        try { Directory.Delete(_profile, recursive: true); }
        catch (IOException) { /* chromium may still hold a lock file for a moment; the temp folder is the OS's to clean */ }
    }
}
