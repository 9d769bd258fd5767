using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;

namespace Herald.Analyzers;

/// <summary>HERALD005: adds <c>[JsonSerializable(typeof(T))]</c> for the event type to the project's JSON context.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddJsonSerializableFix))]
[Shared]
public sealed class AddJsonSerializableFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Diagnostics.NotInJsonContext.Id);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!Declaration.TryFind(context, diagnostic, TopicAnalyzer.TypeToAdd, out Document declaring, out Location where, out string type))
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create($"Add [JsonSerializable(typeof({type.Replace("global::", string.Empty)}))]", token => AddAsync(declaring, where, type, token), equivalenceKey: "HERALD005:" + type),
                diagnostic);
        }

        return Task.CompletedTask;
    }

    private static async Task<Solution> AddAsync(Document document, Location declaration, string type, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root?.FindNode(declaration.SourceSpan).FirstAncestorOrSelf<ClassDeclarationSyntax>() is not { } context)
        {
            return document.Project.Solution;
        }

        SyntaxTrivia endOfLine = Trivia.EndOfLine(root);
        TypeSyntax typeName = SyntaxFactory.ParseTypeName(type).WithAdditionalAnnotations(Simplifier.Annotation);
        AttributeListSyntax attribute = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(
                SyntaxFactory.Attribute(SyntaxFactory.ParseName("System.Text.Json.Serialization.JsonSerializable").WithAdditionalAnnotations(Simplifier.Annotation))
                    .AddArgumentListArguments(SyntaxFactory.AttributeArgument(SyntaxFactory.TypeOfExpression(typeName)))))
            .WithLeadingTrivia(context.AttributeLists.Count > 0
                ? Trivia.Indentation(context.AttributeLists.Last().GetLeadingTrivia()) // its indentation, not the blank lines before it
                : context.GetLeadingTrivia())
            .WithTrailingTrivia(endOfLine);
        SyntaxTriviaList leading = context.GetLeadingTrivia();
        ClassDeclarationSyntax updated = context.AttributeLists.Count > 0
            ? context.WithAttributeLists(context.AttributeLists.Add(attribute))
            : context.WithLeadingTrivia(Trivia.Indentation(leading))
                .WithAttributeLists(SyntaxFactory.SingletonList(attribute.WithLeadingTrivia(leading))); // the doc comment stays above the attributes
        Document changed = document.WithSyntaxRoot(root.ReplaceNode(context, updated));
        return (await Simplifier.ReduceAsync(changed, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false)).Project.Solution;
    }
}
