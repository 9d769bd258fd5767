using System.Text.RegularExpressions;

namespace Herald.Nats;

/// <summary>URLs as messages may show them: a user kept, a password or a token never.</summary>
internal static partial class Redacted
{
    /// <summary>
    /// <paramref name="url"/> with the secret of its user info replaced by <c>***</c>: <c>nats://user:***@host</c>, and
    /// <c>nats://***@host</c> for a token (user info without a colon is a token in NATS), parsed or not.
    /// </summary>
    public static string Url(string? url) => url is null ? string.Empty : UserInfo().Replace(url, m =>
        m.Groups["password"].Success ? m.Groups["user"].Value + ":***@" : m.Groups["start"].Value + "***@");

    [GeneratedRegex(@"(?<user>(?<start>^|//)[^/?#@:\s,]*)(?<password>:(?!//)[^\s,]*)?@")]
    private static partial Regex UserInfo();
}
