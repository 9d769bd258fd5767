using Herald.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.BrowserTests;

/// <summary>The standalone dashboard (<c>herald dashboard --sqlite</c>) on the Registration sample's file, in chromium.</summary>
public sealed class SqliteDashboardTests(Browser browser, SampleDashboard dashboard) : IClassFixture<Browser>, IClassFixture<SampleDashboard>
{
    [Fact]
    public async Task Topology_ShowsTheSampleHandlers_TheirTopic_AndItsPublisher()
    {
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(dashboard.Url);
        foreach (string handler in new[] { "SendWelcomeEmail", "AwardPoints", "RiskCheck", "AuditTrail" })
        {
            await Expect(page.Locator($"g[data-node='handler:{handler}']")).ToBeVisibleAsync();
            await Expect(page.Locator($"#groups tr[data-group='{handler}']")).ToBeVisibleAsync();
        }

        await Expect(page.Locator("g[data-node='topic:user.created']")).ToBeVisibleAsync();
        await Expect(page.Locator("g[data-node='publisher:urn:herald:registration']")).ToBeVisibleAsync();
        await Expect(page.Locator("#groups tr[data-group='AuditTrail']")).ToContainTextAsync("AuditTrail (user.*)");
        await Expect(page.Locator("#system")).ToContainTextAsync("sqlite");
        await Browser.ScreenshotAsync(page, "topology.png");
    }

    [Fact]
    public async Task APublishedEvent_AppearsInTheLiveStream_AndItsPageShowsEnvelopeAndDeliveries()
    {
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(dashboard.Url + "#/live");
        await Expect(page.Locator("#events tr").First).ToBeVisibleAsync(); // the newest of the sample's events

        HeraldCli.Result published = await HeraldCli.RunAsync("publish", "user.created", "--data", """{"id":777777,"email":"live@example.com"}""", "--key", "user-live", "--sqlite", dashboard.Database);
        Assert.True(published.ExitCode == 0, published.ToString());
        string id = published.Output.Trim()[^36..];

        ILocator row = page.Locator($"#events tr[data-id='{id}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row).ToContainTextAsync("user-live");
        await Expect(row).ToContainTextAsync("live@example.com");
        await Browser.ScreenshotAsync(page, "live.png");

        // The pattern filter: order.* hides it, user.* shows it again.
        await page.Locator("#pattern").FillAsync("order.*");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        await page.Locator("#pattern").FillAsync("user.*");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(row).ToBeVisibleAsync();

        await row.ClickAsync();
        await Expect(page.Locator("#envelope [data-field='id']")).ToHaveTextAsync(id);
        await Expect(page.Locator("#envelope [data-field='subject']")).ToHaveTextAsync("user-live");
        await Expect(page.Locator("#envelope [data-field='source']")).ToHaveTextAsync("urn:herald:cli");
        await Expect(page.Locator("#payload")).ToContainTextAsync("live@example.com");
        await Expect(page.Locator("#deliveries")).ToContainTextAsync("SendWelcomeEmail");
        await Expect(page.Locator("#deliveries")).ToContainTextAsync("pending"); // the sample is not running: nobody read it yet
        await Browser.ScreenshotAsync(page, "event.png");
    }

    [Fact]
    public async Task ADeadLetter_IsRedrivenFromThePage_DisappearsFromTheList_AndGoesBackToItsConsumerAlone()
    {
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(dashboard.Url + "#/dead-letters");
        ILocator rows = page.Locator("#dead-letters tr[data-id]");
        await Expect(rows).ToHaveCountAsync(2); // users 7 and 1,007 failed RiskCheck for good
        await Expect(rows.First).ToContainTextAsync("RiskCheck");
        await Expect(rows.First).ToContainTextAsync("attempts-exhausted");
        await Browser.ScreenshotAsync(page, "dead-letters.png");

        string id = (await rows.First.GetAttributeAsync("data-id"))!;
        long targeted = (long)dashboard.Scalar("SELECT count(*) FROM herald_messages WHERE target = 'RiskCheck'")!; // the sample's stored retries
        await rows.First.Locator("button.redrive").ClickAsync();
        await Expect(page.Locator("#result")).ToHaveTextAsync("Redriven 1 of 1.");
        await Expect(page.Locator($"#dead-letters tr[data-id='{id}']")).ToHaveCountAsync(0);
        await Expect(rows).ToHaveCountAsync(1);

        Assert.Equal(1L, dashboard.Scalar("SELECT count(*) FROM herald_dead_letters"));
        Assert.Equal(targeted + 1, dashboard.Scalar("SELECT count(*) FROM herald_messages WHERE target = 'RiskCheck'")); // for RiskCheck alone
        Assert.Equal(0L, dashboard.Scalar("SELECT count(*) FROM herald_messages WHERE target IS NOT NULL AND target <> 'RiskCheck'"));
    }

    [Fact]
    public async Task Charts_DrawThroughput_AsEventsArrive()
    {
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(dashboard.Url + "#/charts");
        HeraldCli.Result published = await HeraldCli.RunAsync("publish", "user.created", "--data", "{}", "--count", "500", "--sqlite", dashboard.Database);
        Assert.True(published.ExitCode == 0, published.ToString());
        await Expect(page.Locator("svg#throughput path[data-series='published']")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Browser.ScreenshotAsync(page, "charts-sqlite.png");
    }

    [Fact]
    public async Task Gates_OnAFile_SayWhereGatesLive()
    {
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(dashboard.Url + "#/gates");
        await Expect(page.Locator("#result")).ToContainTextAsync("Mount it in the application");
    }
}
