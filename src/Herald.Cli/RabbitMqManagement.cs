using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Herald.Cli;

/// <summary>
/// The RabbitMQ management plugin's HTTP API, for what AMQP cannot tell: which queues exist, how they are bound, and
/// the broker's message rates. Credentials come from the AMQP URI unless the management URL has its own.
/// </summary>
internal sealed class RabbitMqManagement(Uri api, string vhost, string user, string password) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        BaseAddress = new Uri(Origin(api) + "/api/"),
        Timeout = TimeSpan.FromSeconds(15),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))) },
    };

    /// <summary>Where the API is, without credentials (Uri's authority part would carry them).</summary>
    public string Address { get; } = Origin(api);

    public static RabbitMqManagement For(Uri amqp, string? management)
    {
        string[] credentials = amqp.UserInfo.Split(':', 2);
        string user = credentials[0].Length > 0 ? Uri.UnescapeDataString(credentials[0]) : "guest";
        string password = credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : "guest";
        string vhost = amqp.AbsolutePath.Trim('/') is { Length: > 0 } v ? Uri.UnescapeDataString(v) : "/";
        // The management API of an amqps broker is on TLS too (15671 by default): credentials never cross in the clear.
        Uri api = management is not null
            ? System.Uri.TryCreate(management, UriKind.Absolute, out Uri? given) && given.Scheme is "http" or "https"
                ? given
                : throw CliException.Usage($"--management takes an http:// or https:// URL such as http://127.0.0.1:15672, not '{Redacted.Uri(management)}'.")
            : amqp.Scheme == "amqps" ? new UriBuilder("https", amqp.Host, 15671).Uri : new UriBuilder("http", amqp.Host, 15672).Uri;
        if (api.UserInfo.Length > 0)
        {
            string[] own = api.UserInfo.Split(':', 2);
            user = Uri.UnescapeDataString(own[0]);
            password = own.Length > 1 ? Uri.UnescapeDataString(own[1]) : string.Empty;
        }

        return new RabbitMqManagement(api, vhost, user, password);
    }

    /// <summary>The names of the queues in the virtual host.</summary>
    public async Task<IReadOnlyList<string>> QueuesAsync(CancellationToken cancellationToken)
    {
        using JsonDocument queues = await GetAsync($"queues/{Uri.EscapeDataString(vhost)}?columns=name", cancellationToken).ConfigureAwait(false);
        return [.. queues.RootElement.EnumerateArray().Select(q => q.GetProperty("name").GetString()!).Order(StringComparer.Ordinal)];
    }

    /// <summary>The routing keys binding <paramref name="queue"/> to <paramref name="exchange"/>.</summary>
    public async Task<IReadOnlyList<string>> BindingsAsync(string queue, string exchange, CancellationToken cancellationToken)
    {
        using JsonDocument bindings = await GetAsync($"queues/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(queue)}/bindings", cancellationToken).ConfigureAwait(false);
        return [.. bindings.RootElement.EnumerateArray().Where(b => b.GetProperty("source").GetString() == exchange).Select(b => b.GetProperty("routing_key").GetString()!)];
    }

    /// <summary>A counter of the broker's message statistics (0 before any traffic): an exchange's <c>publish_in</c>, a queue's <c>ack</c>.</summary>
    public async Task<long> CounterAsync(string kind, string name, string counter, CancellationToken cancellationToken)
    {
        using JsonDocument item = await GetAsync($"{kind}/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(name)}", cancellationToken).ConfigureAwait(false);
        return item.RootElement.TryGetProperty("message_stats", out JsonElement stats) && stats.TryGetProperty(counter, out JsonElement value) ? value.GetInt64() : 0;
    }

    public void Dispose() => _http.Dispose();

    private static string Origin(Uri api) => $"{api.Scheme}://{api.Host}:{api.Port}";

    private async Task<JsonDocument> GetAsync(string path, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"The RabbitMQ management API at {Address} is not reachable ({ex.Message}). Listing queues needs the rabbitmq_management plugin: enable it, or point --management at it.", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException($"The RabbitMQ management API at {Address} answered {(int)response.StatusCode} {response.ReasonPhrase} for {path}.");
            }

            return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }
}
