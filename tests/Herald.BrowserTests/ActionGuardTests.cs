using System.Net;
using System.Net.Http.Json;
using Herald.Dashboard;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.BrowserTests;

/// <summary>Who may act: read-only by default, loopback only without a policy, the policy when there is one.</summary>
public sealed class ActionGuardTests
{
    /// <summary>A request as a browser on this machine sends it from the dashboard's page, with what the test changes.</summary>
    private static DefaultHttpContext From(string address, string host = "127.0.0.1:5080", string? origin = "http://127.0.0.1:5080", bool header = true, string? site = "same-origin")
    {
        var http = new DefaultHttpContext { Connection = { RemoteIpAddress = IPAddress.Parse(address) } };
        http.Request.Scheme = "http";
        http.Request.Host = new HostString(host);
        if (origin is not null)
        {
            http.Request.Headers.Origin = origin;
        }

        if (header)
        {
            http.Request.Headers["X-Herald-Action"] = "1";
        }

        if (site is not null)
        {
            http.Request.Headers["Sec-Fetch-Site"] = site;
        }

        return http;
    }

    [Fact]
    public void ActionsNeedAllowActions_AndFromAnotherMachineAPolicy()
    {
        var allowed = new HeraldDashboardOptions { AllowActions = true };
        Assert.NotNull(DashboardEndpoints.Refused(From("127.0.0.1"), new HeraldDashboardOptions()));                               // read-only
        Assert.Null(DashboardEndpoints.Refused(From("127.0.0.1"), allowed));                                                       // loopback, the page
        Assert.Null(DashboardEndpoints.Refused(From("::1", host: "[::1]:5080", origin: "http://[::1]:5080"), allowed));
        Assert.Null(DashboardEndpoints.Refused(From("127.0.0.1", host: "localhost:5080", origin: null, site: null), allowed));    // a script on this machine
        Assert.NotNull(DashboardEndpoints.Refused(From("10.1.2.3"), allowed));                                                    // remote, no policy
        Assert.Null(DashboardEndpoints.Refused(From("10.1.2.3"), new HeraldDashboardOptions { AllowActions = true, ActionsPolicy = "ops" })); // the policy decides
    }

    /// <summary>Issue 17: a loopback connection was enough, whatever it named and wherever it came from.</summary>
    [Theory]
    [InlineData("evil.example", "http://127.0.0.1:5080", true, "same-origin", "evil.example")]               // DNS rebinding, a proxy on this machine
    [InlineData("127.0.0.1:5080", "https://evil.example", true, "cross-site", "https://evil.example")]       // another site's page
    [InlineData("127.0.0.1:5080", null, true, "cross-site", "cross-site")]                                  // another site, no Origin
    [InlineData("127.0.0.1:5080", "http://127.0.0.1:5080", false, "same-origin", "X-Herald-Action")]        // a form or simple request cannot add the header
    public void ALoopbackConnection_IsNotEnough(string host, string? origin, bool header, string? site, string named)
    {
        IResult? refused = DashboardEndpoints.Refused(From("127.0.0.1", host, origin, header, site), new HeraldDashboardOptions { AllowActions = true });

        Assert.NotNull(refused);
        Assert.Contains(named, ((IValueHttpResult)refused).Value!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAPolicy_TheActionEndpointsAskIt_AndTheReadingOnesDoNot()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSetting("urls", "http://127.0.0.1:0");
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        builder.Services.AddAuthorization(o => o.AddPolicy("ops", p => p.RequireAssertion(c => c.Resource is HttpContext h && h.Request.Headers["X-Ops"] == "yes")));
        builder.Services.AddHerald(_ => { });
        WebApplication app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHeraldDashboard("/herald", o => { o.AllowActions = true; o.ActionsPolicy = "ops"; });
        await app.StartAsync();
        await using (app)
        {
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/herald/";
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(url) };
            EventBus bus = app.Services.GetRequiredService<EventBus>();

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/gates")).StatusCode); // reading needs no policy
            HttpResponseMessage refused = await http.PostAsJsonAsync("api/gates", new { pattern = "order.*", action = "pause" });
            Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode); // challenged by the policy (a redirect to sign in)
            Assert.Empty(bus.Gates.List());

            using var allowed = new HttpRequestMessage(HttpMethod.Post, "api/gates") { Content = JsonContent.Create(new { pattern = "order.*", action = "pause" }) };
            allowed.Headers.Add("X-Ops", "yes");
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(allowed)).StatusCode);
            Assert.Equal(GateState.Paused, Assert.Single(bus.Gates.List()).State);
        }
    }

    /// <summary>Issue 17 over HTTP: a POST naming another host (or from another site) changed things; reads were open; no CSP.</summary>
    [Fact]
    public async Task OverHttp_ForeignHostsAndSitesAreRefused_JsonOnly_WithSecurityHeaders()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSetting("urls", "http://127.0.0.1:0");
        builder.Services.AddHerald(_ => { });
        WebApplication app = builder.Build();
        app.MapHeraldDashboard("/herald", o => o.AllowActions = true);
        await app.StartAsync();
        await using (app)
        {
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/herald/";
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            EventBus bus = app.Services.GetRequiredService<EventBus>();
            HttpRequestMessage Pause(string? host = null, string? origin = null, bool header = true, string contentType = "application/json")
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "api/gates") { Content = new StringContent("""{"pattern":"order.*","action":"pause"}""", System.Text.Encoding.UTF8, contentType) };
                if (host is not null)
                {
                    request.Headers.Host = host;
                }

                if (origin is not null)
                {
                    request.Headers.Add("Origin", origin);
                }

                if (header)
                {
                    request.Headers.Add("X-Herald-Action", "1");
                }

                return request;
            }

            HttpResponseMessage page = await http.GetAsync(string.Empty);
            Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());

            using var foreignRead = new HttpRequestMessage(HttpMethod.Get, "api/dead-letters");
            foreignRead.Headers.Host = "evil.example";
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(foreignRead)).StatusCode);

            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Pause(host: "evil.example", origin: "https://evil.example"))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Pause(origin: "https://evil.example"))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Pause(header: false))).StatusCode);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await http.SendAsync(Pause(contentType: "text/plain"))).StatusCode); // what a cross-site form can send
            Assert.Empty(bus.Gates.List());

            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(Pause(origin: url.TrimEnd('/')[..url.IndexOf("/herald", StringComparison.Ordinal)]))).StatusCode);
            Assert.Equal(GateState.Paused, Assert.Single(bus.Gates.List()).State);
        }
    }

    /// <summary>Issue 17: an event capacity of 0 divided by zero later; options are checked when the dashboard is mapped.</summary>
    [Fact]
    public void Options_AreCheckedWhenMapped_NamingTheSetting()
    {
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => new HeraldDashboardOptions { EventCapacity = 0 }.Validate());
        var blank = Assert.Throws<ArgumentException>(() => new HeraldDashboardOptions { ReadsPolicy = " " }.Validate());

        Assert.Contains("EventCapacity", zero.Message, StringComparison.Ordinal);
        Assert.Contains("ReadsPolicy", blank.Message, StringComparison.Ordinal);
    }
}
