using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Herald.Analyzers.Tests;

/// <summary>
/// Runs the analyzer (and a code fix) with the Roslyn testing libraries on sources that reference Herald, against the
/// SDK's own .NET reference assemblies (no download: CI has no internet beyond the package feed).
/// </summary>
internal static class Verify
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!; // <dotnet>/shared/Microsoft.NETCore.App/<version>
        string packs = Path.GetFullPath(Path.Combine(runtime, "..", "..", "..", "packs", "Microsoft.NETCore.App.Ref"));
        string? refs = Directory.Exists(packs)
            ? Directory.GetDirectories(packs).OrderByDescending(d => Version.TryParse(Path.GetFileName(d).Split('-')[0], out Version? v) ? v : new Version()).Select(d => Path.Combine(d, "ref", "net10.0")).FirstOrDefault(Directory.Exists)
            : null;
        IEnumerable<string> framework = refs is not null
            ? Directory.GetFiles(refs, "*.dll")
            : ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll");
        return [.. framework.Append(typeof(TopicAttribute).Assembly.Location).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    /// <summary>The .NET reference assemblies and Herald, for compilations made by hand (the generator's tests).</summary>
    public static ImmutableArray<MetadataReference> MetadataReferences() => References.Value;

    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TopicAnalyzer, DefaultVerifier> { TestCode = source };
        Configure(test.TestState);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    public static Task CodeFixAsync<TFix>(string source, string fixedSource, params DiagnosticResult[] expected)
        where TFix : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<TopicAnalyzer, TFix, DefaultVerifier> { TestCode = source, FixedCode = fixedSource };
        Configure(test.TestState);
        Configure(test.FixedState);
        test.FixedState.MarkupHandling = MarkupMode.Allow;

        // HERALD001 is reported when the compilation ends (a binding may come after a use), which makes it non-local:
        // the IDE offers its fix where it lists the build's diagnostics.
        test.CodeFixTestBehaviors |= CodeFixTestBehaviors.SkipLocalDiagnosticCheck;
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    public static DiagnosticResult Diagnostic(string id) => new(id, id == "HERALD002" ? DiagnosticSeverity.Error : id == "HERALD004" ? DiagnosticSeverity.Info : DiagnosticSeverity.Warning);

    private static void Configure(SolutionState state)
    {
        state.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        state.AdditionalReferences.AddRange(References.Value);
    }
}
