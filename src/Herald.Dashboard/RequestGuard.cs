using System.Net;
using Microsoft.AspNetCore.Http;

namespace Herald.Dashboard;

/// <summary>
/// Who may read the dashboard and who may act through it, when no authorization policy decides: a connection from
/// this machine, addressed to this machine by name (a loopback <c>Host</c>: DNS rebinding or a reverse proxy on the
/// same machine would otherwise turn a remote caller into a local one), and for actions a same-origin browser request
/// carrying the dashboard's own header (which no cross-site form or simple request can send).
/// </summary>
internal static class RequestGuard
{
    /// <summary>The header the dashboard's page sends with every action.</summary>
    public const string ActionHeader = "X-Herald-Action";

    /// <summary>Why a read is refused, or null when it may go on.</summary>
    public static string? RefuseRead(HttpContext http, HeraldDashboardOptions options) =>
        options.ReadsPolicy is not null || options.AllowRemoteReads ? null
        : FromThisMachine(http) is { } why ? $"The dashboard answers this machine only: {why}. To open it to others, set HeraldDashboardOptions.ReadsPolicy (or AllowRemoteReads, and put it behind your own authentication)."
        : null;

    /// <summary>Why an action is refused, or null when it may go on (an actions policy, when set, is checked by the endpoint itself).</summary>
    public static string? RefuseAction(HttpContext http, HeraldDashboardOptions options)
    {
        if (!options.AllowActions)
        {
            return "The dashboard is read-only: actions need HeraldDashboardOptions.AllowActions (herald dashboard --allow-actions).";
        }

        if (options.ActionsPolicy is not null)
        {
            return null;
        }

        if (FromThisMachine(http) is { } why)
        {
            return $"Actions without an authorization policy (HeraldDashboardOptions.ActionsPolicy) are taken from this machine only: {why}.";
        }

        if (!http.Request.Headers.ContainsKey(ActionHeader))
        {
            return $"An action must carry the {ActionHeader} header (the dashboard's page sends it); this request does not.";
        }

        string? origin = http.Request.Headers.Origin;
        if (origin is not null && !string.Equals(origin, $"{http.Request.Scheme}://{http.Request.Host.Value}", StringComparison.OrdinalIgnoreCase))
        {
            return $"An action must come from the dashboard's own page; this one comes from '{origin}'.";
        }

        string? site = http.Request.Headers["Sec-Fetch-Site"];
        if (site is not null && site is not "same-origin" and not "none")
        {
            return $"An action must come from the dashboard's own page; the browser says this one is {site}.";
        }

        return null;
    }

    /// <summary>Null when the connection comes from loopback and names a loopback host; else what is not.</summary>
    private static string? FromThisMachine(HttpContext http)
    {
        IPAddress? remote = http.Connection.RemoteIpAddress;
        if (remote is not null && !IPAddress.IsLoopback(remote))
        {
            return $"this request comes from {remote}";
        }

        string host = http.Request.Host.Host;
        return host is "localhost" or "127.0.0.1" or "::1" or "[::1]" || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address))
            ? null
            : $"it is addressed to '{host}', not to a loopback name (behind a reverse proxy, use ForwardedHeaders and a policy)";
    }
}
