using System.Text.RegularExpressions;

namespace Herald;

/// <summary>
/// Server addresses as messages may show them, whether or not they parse (a malformed one is exactly the one an error
/// quotes): a user kept, a password or a token never. One place for every transport's URLs.
/// </summary>
internal static partial class Redacted
{
    /// <summary><paramref name="uri"/> with the password of its user info replaced by <c>***</c> (<c>amqp://guest:***@host/</c>).</summary>
    public static string Uri(string? uri) => uri is null ? string.Empty : AmqpUserInfo().Replace(uri, m => m.Groups["user"].Value + (m.Groups["password"].Success ? ":***@" : "@"));

    /// <summary>
    /// A NATS URL list with every secret replaced by <c>***</c>: <c>nats://user:***@host</c>, and <c>nats://***@host</c>
    /// for a token (user info without a colon is a token in NATS).
    /// </summary>
    public static string NatsUrl(string? url) => url is null ? string.Empty : NatsUserInfo().Replace(url, m =>
        m.Groups["password"].Success ? m.Groups["user"].Value + ":***@" : m.Groups["start"].Value + "***@");

    /// <summary>The user info of a URI: between the scheme's <c>//</c> (or the start) and the last <c>@</c> before the host.</summary>
    [GeneratedRegex(@"(?<user>(?:^|//)[^/?#@:\s]*)(?<password>:(?!//)[^\s]*)?@")]
    private static partial Regex AmqpUserInfo();

    /// <summary>The same for each URL of a comma-separated list.</summary>
    [GeneratedRegex(@"(?<user>(?<start>^|//)[^/?#@:\s,]*)(?<password>:(?!//)[^\s,]*)?@")]
    private static partial Regex NatsUserInfo();
}
