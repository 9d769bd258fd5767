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
    private static DefaultHttpContext From(string address) => new() { Connection = { RemoteIpAddress = IPAddress.Parse(address) } };

    [Fact]
    public void ActionsNeedAllowActions_AndFromAnotherMachineAPolicy()
    {
        Assert.NotNull(DashboardEndpoints.Refused(From("127.0.0.1"), new HeraldDashboardOptions()));                               // read-only
        Assert.Null(DashboardEndpoints.Refused(From("127.0.0.1"), new HeraldDashboardOptions { AllowActions = true }));             // loopback
        Assert.Null(DashboardEndpoints.Refused(From("::1"), new HeraldDashboardOptions { AllowActions = true }));
        Assert.NotNull(DashboardEndpoints.Refused(From("10.1.2.3"), new HeraldDashboardOptions { AllowActions = true }));           // remote, no policy
        Assert.Null(DashboardEndpoints.Refused(From("10.1.2.3"), new HeraldDashboardOptions { AllowActions = true, ActionsPolicy = "ops" })); // the policy decides
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
}
