using Herald.Tests.Support;
using Microsoft.Playwright;

namespace Herald.BrowserTests;

/// <summary>
/// Debian's chromium (installed by eng/install-chromium.sh when missing) driven by Playwright, headless and without
/// the sandbox (as root in CI). One browser for the test class; a page per test.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Instance { get; private set; } = null!;

    /// <summary>Where screenshots go: HERALD_SCREENSHOTS (docs/images to refresh the README's), else a temp folder.</summary>
    public static string ScreenshotFolder { get; } = Environment.GetEnvironmentVariable("HERALD_SCREENSHOTS") is { Length: > 0 } folder
        ? Path.GetFullPath(folder, ExternalCommand.RepositoryRoot())
        : Path.Combine(Path.GetTempPath(), "herald-screenshots");

    public async Task InitializeAsync()
    {
        string chromium = await ExternalCommand.RunAsync(Path.Combine(ExternalCommand.RepositoryRoot(), "eng", "install-chromium.sh"), [], TimeSpan.FromMinutes(10));
        _playwright = await Playwright.CreateAsync();
        Instance = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium.Split('\n')[^1].Trim(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu"],
        });
    }

    public async Task<IPage> NewPageAsync()
    {
        IPage page = await Instance.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        page.SetDefaultTimeout(20_000);
        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        if (Instance is not null)
        {
            await Instance.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
