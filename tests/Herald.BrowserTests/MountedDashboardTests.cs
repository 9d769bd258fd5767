using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Herald.BrowserTests;

/// <summary>The dashboard mounted in an application with <c>app.MapHeraldDashboard("/herald")</c>, over its own in-memory bus.</summary>
public sealed class MountedDashboardTests(Browser browser) : IClassFixture<Browser>
{
    [Topic("order.paid")]
    public sealed record OrderPaid(long OrderId, decimal Amount);

    /// <summary>Refuses negative amounts, until the ledger is fixed.</summary>
    public sealed class Ledger
    {
        public volatile bool AcceptsRefunds;
    }

    public sealed class Bookkeeping(Ledger ledger) : IEventHandler<OrderPaid>
    {
        public Task HandleAsync(EventContext<OrderPaid> context, CancellationToken cancellationToken) =>
            context.Event.Amount < 0 && !ledger.AcceptsRefunds ? throw new InvalidOperationException($"order {context.Event.OrderId} has a negative amount") : Task.CompletedTask;
    }

    private static async Task<(WebApplication App, string Url)> StartAsync(bool allowActions)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSetting("urls", "http://127.0.0.1:0");
        builder.Services.AddSingleton(new Ledger());
        builder.Services.AddHerald(h =>
        {
            h.Bus.Name = "shop";
            h.AddHandler<Bookkeeping, OrderPaid>(o => o.Retry = Retry.None);
        });
        WebApplication app = builder.Build();
        app.MapHeraldDashboard("/herald", o => o.AllowActions = allowActions);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address + "/herald/");
    }

    [Fact]
    public async Task Gates_ArePausedAndResumedFromThePage_WithTheirStateVisible_AndEventsFlowAfter()
    {
        (WebApplication app, string url) = await StartAsync(allowActions: true);
        await using (app)
        {
            EventBus bus = app.Services.GetRequiredService<EventBus>();
            IPage page = await browser.NewPageAsync();
            await page.GotoAsync(url);
            await Expect(page.Locator("g[data-node='handler:Bookkeeping']")).ToBeVisibleAsync();
            await Expect(page.Locator("g[data-node='topic:order.paid']")).ToBeVisibleAsync();

            await page.GotoAsync(url + "#/gates");
            await page.Locator("#gate-pattern").FillAsync("order.*");
            await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
            ILocator gate = page.Locator("#gates tr[data-pattern='order.*']");
            await Expect(gate).ToContainTextAsync("Paused");
            Assert.Equal(GateState.Paused, Assert.Single(bus.Gates.List()).State);

            await bus.PublishAsync(new OrderPaid(1, 10m)); // held by the gate
            await Expect(gate.Locator("td").Nth(2)).ToHaveTextAsync("1");
            await Browser.ScreenshotAsync(page, "gates.png");

            await gate.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
            await Expect(page.Locator("#gates")).ToContainTextAsync("no gates");
            Assert.Empty(bus.Gates.List());

            // The held event went on: the live view shows it, its page shows the handler's delivery.
            await page.GotoAsync(url + "#/live");
            ILocator row = page.Locator("#events tr").First;
            await Expect(row).ToContainTextAsync("order.paid");
            await row.ClickAsync();
            await Expect(page.Locator("#deliveries")).ToContainTextAsync("Bookkeeping");
            await Expect(page.Locator("#deliveries")).ToContainTextAsync("Handled");

            // Charts: throughput and the handler's latency percentiles while events flow.
            await page.GotoAsync(url + "#/charts");
            using var flowing = new CancellationTokenSource();
            Task publishing = Task.Run(async () =>
            {
                for (long i = 100; !flowing.IsCancellationRequested; i++)
                {
                    await bus.PublishAsync(new OrderPaid(i, 1m));
                    if (i % 50 == 0)
                    {
                        await Task.Delay(5); // a steady flow rather than one burst
                    }
                }
            });
            await Expect(page.Locator("svg#latency path[data-series='p99']")).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Expect(page.Locator("svg#throughput path[data-series='handled']")).ToBeVisibleAsync();
            await Browser.ScreenshotAsync(page, "charts.png");
            await flowing.CancelAsync();
            await publishing;
        }
    }

    [Fact]
    public async Task ReadOnlyByDefault_ActionsAreRefused_AndTheDeadLetterStays()
    {
        (WebApplication app, string url) = await StartAsync(allowActions: false);
        await using (app)
        {
            EventBus bus = app.Services.GetRequiredService<EventBus>();
            DeadLetters deadLetters = app.Services.GetRequiredService<DeadLetters>();
            await bus.PublishAsync(new OrderPaid(2, -1m));
            DeadLetter letter = await EventuallyAsync(async () => (await deadLetters.ListAsync()).SingleOrDefault());

            using var http = new HttpClient { BaseAddress = new Uri(url) };
            HttpResponseMessage redrive = await http.PostAsJsonAsync("api/dead-letters/redrive", new { ids = new[] { letter.Id } });
            Assert.Equal(HttpStatusCode.Forbidden, redrive.StatusCode);
            Assert.Contains("read-only", await redrive.Content.ReadAsStringAsync());
            HttpResponseMessage gate = await http.PostAsJsonAsync("api/gates", new { pattern = "order.*", action = "block" });
            Assert.Equal(HttpStatusCode.Forbidden, gate.StatusCode);
            Assert.Empty(bus.Gates.List());
            Assert.Equal(1, await deadLetters.CountAsync());

            IPage page = await browser.NewPageAsync();
            await page.GotoAsync(url + "#/dead-letters");
            await Expect(page.Locator($"#dead-letters tr[data-id='{letter.Id}']")).ToContainTextAsync("negative amount");
            await Expect(page.Locator("button.redrive")).ToHaveCountAsync(0);
            await Expect(page.Locator("main")).ToContainTextAsync("read-only");
        }
    }

    [Fact]
    public async Task SeveralDeadLetters_AreRedrivenTogether_FromTheFilteredList_WithTheResultShown()
    {
        (WebApplication app, string url) = await StartAsync(allowActions: true);
        await using (app)
        {
            EventBus bus = app.Services.GetRequiredService<EventBus>();
            DeadLetters deadLetters = app.Services.GetRequiredService<DeadLetters>();
            for (int i = 1; i <= 3; i++)
            {
                await bus.PublishAsync(new OrderPaid(i, -i));
            }

            await EventuallyAsync(async () => await deadLetters.CountAsync() == 3 ? "all three" : null);
            IPage page = await browser.NewPageAsync();
            await page.GotoAsync(url + "#/dead-letters");
            await Expect(page.Locator("#dead-letters tr[data-id]")).ToHaveCountAsync(3);
            await page.Locator("#dl-pattern").FillAsync("user.*");
            await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
            await Expect(page.Locator("#dead-letters")).ToContainTextAsync("no dead letters"); // none on user.*
            await page.Locator("#dl-pattern").FillAsync("order.*");
            await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
            await Expect(page.Locator("#dead-letters tr[data-id]")).ToHaveCountAsync(3);

            app.Services.GetRequiredService<Ledger>().AcceptsRefunds = true;
            ILocator boxes = page.Locator("#dead-letters input[type=checkbox]");
            await boxes.Nth(0).CheckAsync();
            await boxes.Nth(1).CheckAsync();
            await page.Locator("#redrive-selected").ClickAsync();
            await Expect(page.Locator("#result")).ToHaveTextAsync("Redriven 2 of 2.");
            await Expect(page.Locator("#dead-letters tr[data-id]")).ToHaveCountAsync(1);
            Assert.Equal(1, await deadLetters.CountAsync());
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(10, deadline.Token);
        }
    }
}
