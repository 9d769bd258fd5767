using Microsoft.CodeAnalysis;

namespace Herald.Analyzers;

/// <summary>Herald's diagnostics; docs/analyzers.md describes each with examples.</summary>
internal static class Diagnostics
{
    private const string Category = "Herald";
    private const string HelpBase = "https://example.invalid/herald/docs/analyzers.md#";

    public static readonly DiagnosticDescriptor NoTopic = new(
        "HERALD001",
        "Event type has no topic",
        "'{0}' is {1} but has no topic: add [Topic(\"domain.action\")] to it, or bind it in AddHerald with h.Topic<{0}>(\"domain.action\")",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Publishing, subscribing to or handling a type without a topic fails at run time with an InvalidTopicException.",
        helpLinkUri: HelpBase + "herald001",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor BadTopic = new(
        "HERALD002",
        "Topic or pattern breaks the grammar",
        "'{0}' is not a valid {1}: {2}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A topic is two or more lowercase segments ([a-z0-9][a-z0-9_-]*) joined by dots; a pattern may use '*' and '#' as whole segments. Herald refuses anything else at run time.",
        helpLinkUri: HelpBase + "herald002");

    public static readonly DiagnosticDescriptor SharedTopic = new(
        "HERALD003",
        "Two event types bound to one topic",
        "'{0}' and '{1}' are both bound to topic '{2}'{3}; a reader could not know which to decode: give one its own topic or another version",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "One type per topic and version, so that every reader decodes a topic's payload as the same type.",
        helpLinkUri: HelpBase + "herald003",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor NeverPublished = new(
        "HERALD004",
        "Handler of an event nothing here publishes",
        "A handler is registered for '{0}', which no code in this project publishes; fine when another service publishes it",
        Category,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "A handler whose event nothing publishes never runs, unless the event comes from another process.",
        helpLinkUri: HelpBase + "herald004",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor NotInJsonContext = new(
        "HERALD005",
        "Event type missing from the source-generated JSON context",
        "'{0}' is {1} but is not in the JSON context '{2}': add [JsonSerializable(typeof({0}))] to it, or its payloads need reflection, which trimmed and native AOT apps do not have",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A project that declares a JsonSerializerContext serializes its events through it; an event type it does not list fails at its first publish in a trimmed or AOT app.",
        helpLinkUri: HelpBase + "herald005",
        customTags: WellKnownDiagnosticTags.CompilationEnd);
}
