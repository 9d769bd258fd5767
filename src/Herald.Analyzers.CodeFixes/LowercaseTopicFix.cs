using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Herald.Analyzers;

/// <summary>HERALD002: writes a topic or pattern literal in lowercase, when that alone makes it valid (<c>"Order.*"</c> to <c>"order.*"</c>).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LowercaseTopicFix))]
[Shared]
public sealed class LowercaseTopicFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Diagnostics.BadTopic.Id);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(TopicAnalyzer.SuggestedTopic, out string? lower) || lower is null
                || root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } node
                || Literal(node) is not { } literal) // one literal only: a constant made of several ("Order." + "Placed") is left to you
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Use \"{lower}\"",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(literal, SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(lower)).WithTriviaFrom(literal)))),
                    equivalenceKey: "HERALD002-lowercase"),
                diagnostic);
        }
    }

    private static LiteralExpressionSyntax? Literal(SyntaxNode node)
    {
        ExpressionSyntax? expression = node switch
        {
            ArgumentSyntax argument => argument.Expression,
            AttributeArgumentSyntax argument => argument.Expression,
            ExpressionSyntax e => e,
            _ => null,
        };
        while (expression is ParenthesizedExpressionSyntax parenthesized)
        {
            expression = parenthesized.Expression;
        }

        return expression is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression) ? literal : null;
    }
}
