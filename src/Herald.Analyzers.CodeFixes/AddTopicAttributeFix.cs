using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Herald.Analyzers;

/// <summary>HERALD001: adds <c>[Topic("domain.action")]</c>, named after the type, to an event type declared in the solution.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddTopicAttributeFix))]
[Shared]
public sealed class AddTopicAttributeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Diagnostics.NoTopic.Id);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null; // one type at a time: each gets a topic of its own

    /// <inheritdoc />
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!Declaration.TryFind(context, diagnostic, TopicAnalyzer.SuggestedTopic, out Document declaring, out Location declaration, out string topic))
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create($"Add [Topic(\"{topic}\")]", token => AddAsync(declaring, declaration, topic, token), equivalenceKey: "HERALD001:" + topic),
                diagnostic);
        }

        return Task.CompletedTask;
    }

    private static async Task<Solution> AddAsync(Document document, Location declaration, string topic, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root?.FindNode(declaration.SourceSpan).FirstAncestorOrSelf<BaseTypeDeclarationSyntax>() is not { } type || root is not CompilationUnitSyntax unit)
        {
            return document.Project.Solution;
        }

        SyntaxTrivia endOfLine = Trivia.EndOfLine(root);
        AttributeListSyntax attribute = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(
                SyntaxFactory.Attribute(SyntaxFactory.IdentifierName("Topic"))
                    .AddArgumentListArguments(SyntaxFactory.AttributeArgument(SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(topic))))))
            .WithTrailingTrivia(endOfLine);
        // The type's leading trivia (its doc comment, its indentation) moves to the new first attribute; the token that
        // had it keeps only the indentation.
        SyntaxTriviaList leading = type.GetLeadingTrivia();
        BaseTypeDeclarationSyntax annotated = type.WithLeadingTrivia(Trivia.Indentation(leading));
        annotated = annotated.WithAttributeLists(annotated.AttributeLists.Insert(0, attribute.WithLeadingTrivia(leading)));
        CompilationUnitSyntax updated = unit.ReplaceNode(type, annotated);
        if (!updated.Usings.Any(u => u.Name?.ToString() == "Herald") && !InsideHerald(type))
        {
            updated = updated.AddUsings(SyntaxFactory.UsingDirective(SyntaxFactory.IdentifierName("Herald")).WithTrailingTrivia(endOfLine));
        }

        return document.WithSyntaxRoot(updated).Project.Solution;
    }

    private static bool InsideHerald(SyntaxNode node) =>
        node.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().Any(n => n.Name.ToString() is "Herald" || n.Name.ToString().StartsWith("Herald.", StringComparison.Ordinal));
}
