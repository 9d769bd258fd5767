using System.Text.RegularExpressions;

namespace Herald.RabbitMQ;

/// <summary>URIs as messages may show them: the user kept, the password never.</summary>
internal static partial class Redacted
{
    /// <summary>
    /// <paramref name="uri"/> with the password of its user info replaced by <c>***</c> (<c>amqp://guest:***@host/</c>),
    /// whether or not the rest of it parses: a malformed URI is exactly the one an error message quotes.
    /// </summary>
    public static string Uri(string? uri) => uri is null ? string.Empty : UserInfo().Replace(uri, m => m.Groups["user"].Value + (m.Groups["password"].Success ? ":***@" : "@"));

    /// <summary>The user info of a URI: between the scheme's <c>//</c> (or the start) and the last <c>@</c> before the host.</summary>
    [GeneratedRegex(@"(?<user>(?:^|//)[^/?#@:\s]*)(?<password>:(?!//)[^\s]*)?@")]
    private static partial Regex UserInfo();
}
