using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Herald.Analyzers.Tests;

/// <summary>The generator writes a module initializer declaring each nameable, valid [Topic] type, and its output compiles.</summary>
public sealed class TopicBindingGeneratorTests
{
    private const string Source = """
        using Herald;

        namespace Shop
        {
            [Topic("order.placed")]
            public sealed record OrderPlaced(string Id);

            [Topic("order.paid", Version = 2, DataSchema = "urn:shop:order.paid:v2")]
            internal sealed class OrderPaid { }

            public static class Outer
            {
                [Topic("order.nested")]
                public sealed record Nested(string Id);

                [Topic("order.hidden")]
                private sealed record Hidden(string Id);
            }

            [Topic("order.generic")]
            public sealed record Generic<T>(T Value);

            [Topic("Order.Bad")]
            public sealed record Bad(string Id);
        }
        """;

    [Fact]
    public void TheInitializer_DeclaresNameableValidTypes_AndCompiles()
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Shop.Events",
            [CSharpSyntaxTree.ParseText(Source, new CSharpParseOptions(LanguageVersion.Latest))],
            Verify.MetadataReferences(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        GeneratorDriver driver = CSharpGeneratorDriver.Create(new TopicBindingGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out var diagnostics);
        Assert.Empty(diagnostics);
        string generated = Assert.Single(driver.GetRunResult().GeneratedTrees).ToString();

        Assert.Contains("internal static class TopicBindings_Shop_Events", generated, StringComparison.Ordinal);
        Assert.Contains("[global::System.Runtime.CompilerServices.ModuleInitializer]", generated, StringComparison.Ordinal);
        Assert.Contains("global::Herald.Topic.Declare(typeof(global::Shop.OrderPlaced), \"order.placed\", null, 0);", generated, StringComparison.Ordinal);
        Assert.Contains("global::Herald.Topic.Declare(typeof(global::Shop.OrderPaid), \"order.paid\", \"urn:shop:order.paid:v2\", 2);", generated, StringComparison.Ordinal);
        Assert.Contains("global::Herald.Topic.Declare(typeof(global::Shop.Outer.Nested), \"order.nested\", null, 0);", generated, StringComparison.Ordinal);
        Assert.DoesNotContain("Hidden", generated, StringComparison.Ordinal);   // private: left to the attribute
        Assert.DoesNotContain("Generic", generated, StringComparison.Ordinal);  // generic: left to the attribute
        Assert.DoesNotContain("Bad", generated, StringComparison.Ordinal);      // invalid: HERALD002 reports it

        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void WithoutTopicTypes_NothingIsGenerated()
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Empty",
            [CSharpSyntaxTree.ParseText("public sealed class Plain { }")],
            Verify.MetadataReferences(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new TopicBindingGenerator()).RunGenerators(compilation);
        Assert.Empty(driver.GetRunResult().GeneratedTrees);
    }
}
