using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Herald.Analyzers;

/// <summary>The trivia the code fixes give what they insert: the file's own line ending, and a declaration's indentation.</summary>
internal static class Trivia
{
    /// <summary>The first line ending in <paramref name="root"/>'s file (not the platform's), or CRLF in a one-line file.</summary>
    public static SyntaxTrivia EndOfLine(SyntaxNode root) =>
        root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { RawKind: not 0 } found
            ? found
            : SyntaxFactory.ElasticCarriageReturnLineFeed;

    /// <summary>The whitespace at the end of <paramref name="leading"/>: the indentation of the token it leads.</summary>
    public static SyntaxTriviaList Indentation(SyntaxTriviaList leading) =>
        SyntaxFactory.TriviaList(leading.Reverse().TakeWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Reverse());
}
