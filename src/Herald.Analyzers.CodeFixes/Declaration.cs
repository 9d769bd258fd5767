using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Herald.Analyzers;

/// <summary>What a fix that edits another declaration needs from its diagnostic: that declaration's document and place, and a property.</summary>
internal static class Declaration
{
    /// <summary>False when the diagnostic has no declaration in source (a type from a reference) or lacks <paramref name="key"/>.</summary>
    public static bool TryFind(CodeFixContext context, Diagnostic diagnostic, string key, out Document document, out Location location, out string value)
    {
        document = null!;
        location = null!;
        value = null!;
        if (diagnostic.AdditionalLocations.Count == 0
            || context.Document.Project.Solution.GetDocument(diagnostic.AdditionalLocations[0].SourceTree) is not { } declaring
            || !diagnostic.Properties.TryGetValue(key, out string? found) || found is null)
        {
            return false;
        }

        (document, location, value) = (declaring, diagnostic.AdditionalLocations[0], found);
        return true;
    }
}
