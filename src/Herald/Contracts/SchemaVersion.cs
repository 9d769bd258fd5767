namespace Herald;

/// <summary>
/// The version of an event's payload, as it travels in the CloudEvents <c>dataschema</c> attribute: the schema's last
/// segment (after its last <c>:</c> or <c>/</c>) is <c>v</c> and a number, e.g. <c>urn:herald:user.created:v2</c> or
/// <c>https://schemas.example.com/user.created/v3</c>. An event without a data schema, or whose schema ends otherwise,
/// is version 1: what was published before its type had versions.
/// </summary>
internal static class SchemaVersion
{
    /// <summary>
    /// The version an event on <paramref name="topic"/> with <paramref name="dataSchema"/> has: the number in its last
    /// segment when the rest of the schema is one this process knows for the topic (Herald's own
    /// <c>urn:herald:{topic}</c>, or the schema of a type bound to the topic); else 1. A schema of another producer
    /// that happens to end in <c>/v2</c> is not taken for a version of Herald's.
    /// </summary>
    public static int Of(string? dataSchema, string topic) =>
        TryParse(dataSchema, out string? family, out int version) && (family == HeraldFamily(topic) || Topic.HasSchemaFamily(topic, family)) ? version : 1;

    /// <summary>The schema without its version segment, as Herald writes it for <paramref name="topic"/>.</summary>
    public static string HeraldFamily(string topic) => $"urn:herald:{topic}";

    /// <summary>True when <paramref name="dataSchema"/> ends in a version segment; <paramref name="family"/> is what comes before its separator.</summary>
    public static bool TryParse(string? dataSchema, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? family, out int version)
    {
        family = null;
        if (!TryParse(dataSchema, out version))
        {
            return false;
        }

        family = dataSchema![..dataSchema.AsSpan().LastIndexOfAny(':', '/')];
        return true;
    }

    /// <summary>The data schema Herald writes for <paramref name="topic"/> at <paramref name="version"/> when the binding names none: none for version 1.</summary>
    public static string? DefaultFor(string topic, int version) => version > 1 ? $"urn:herald:{topic}:v{version}" : null;

    /// <summary>True when <paramref name="dataSchema"/> ends in a version segment (<c>:v2</c>, <c>/v2</c>).</summary>
    public static bool TryParse(string? dataSchema, out int version)
    {
        version = 0;
        if (string.IsNullOrEmpty(dataSchema))
        {
            return false;
        }

        int start = dataSchema.AsSpan().LastIndexOfAny(':', '/') + 1;
        ReadOnlySpan<char> segment = dataSchema.AsSpan(start);
        return segment.Length is >= 2 and <= 10
            && segment[0] is 'v' or 'V'
            && char.IsAsciiDigit(segment[1])
            && int.TryParse(segment[1..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version)
            && version >= 1;
    }

    /// <summary>
    /// The version of a binding declared with <paramref name="declared"/> (0: not declared) and <paramref name="dataSchema"/>,
    /// and the data schema it writes; or why the two disagree.
    /// </summary>
    public static (int Version, string? DataSchema, string? Problem) Resolve(string topic, int declared, string? dataSchema)
    {
        if (declared < 0)
        {
            return (1, dataSchema, $"its version is {declared}; versions start at 1");
        }

        bool carried = TryParse(dataSchema, out int fromSchema);
        if (declared == 0)
        {
            return (carried ? fromSchema : 1, dataSchema, null);
        }

        if (dataSchema is null)
        {
            return (declared, DefaultFor(topic, declared), null);
        }

        if (carried ? fromSchema != declared : declared != 1)
        {
            return (declared, dataSchema, $"its version is {declared} but its data schema '{dataSchema}' "
                + (carried ? $"says version {fromSchema}" : "carries no version")
                + $"; the version travels in the data schema's last segment, e.g. '{dataSchema.TrimEnd(':', '/')}:v{declared}', or leave the data schema out");
        }

        return (declared, dataSchema, null);
    }
}
