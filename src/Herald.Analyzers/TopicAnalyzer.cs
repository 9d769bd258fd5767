using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Herald.Analyzers;

/// <summary>
/// Checks Herald's topics at compile time: a published, subscribed or handled type without a topic (HERALD001); a topic
/// or pattern literal that breaks the grammar (HERALD002); two types bound to one topic and version (HERALD003); a
/// handler of an event no code in the project publishes (HERALD004, information).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TopicAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The key of the topic a code fix may suggest, in a HERALD001 or HERALD002 diagnostic's properties.</summary>
    internal const string SuggestedTopic = "SuggestedTopic";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Diagnostics.NoTopic, Diagnostics.BadTopic, Diagnostics.SharedTopic, Diagnostics.NeverPublished, Diagnostics.NotInJsonContext);

    /// <summary>The key of the type a HERALD005 fix adds to the JSON context, in the diagnostic's properties.</summary>
    internal const string TypeToAdd = "TypeToAdd";

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (HeraldSymbols.Find(start.Compilation) is { } symbols)
            {
                var state = new CompilationState(symbols);
                start.RegisterOperationAction(state.OnInvocation, OperationKind.Invocation);
                start.RegisterOperationAction(state.OnObjectCreation, OperationKind.ObjectCreation);
                start.RegisterSymbolAction(state.OnNamedType, SymbolKind.NamedType);
                start.RegisterCompilationEndAction(state.OnEnd);
            }
        });
    }

    /// <summary>The Herald types the rules look for; null when the compilation does not reference Herald.</summary>
    private sealed class HeraldSymbols
    {
        public INamedTypeSymbol TopicAttribute { get; private set; } = null!;

        public INamedTypeSymbol? EventBus { get; private set; }

        public INamedTypeSymbol? Builder { get; private set; }

        public INamedTypeSymbol? Topic { get; private set; }

        public INamedTypeSymbol? Handler { get; private set; }

        public INamedTypeSymbol? Gates { get; private set; }

        public INamedTypeSymbol? Pattern { get; private set; }

        public INamedTypeSymbol? JsonContext { get; private set; }

        public INamedTypeSymbol? JsonSerializable { get; private set; }

        public INamedTypeSymbol? JsonEventSerializer { get; private set; }

        public INamedTypeSymbol? Serializers { get; private set; }

        public INamedTypeSymbol? Upcasters { get; private set; }

        public static HeraldSymbols? Find(Compilation compilation) =>
            compilation.GetTypeByMetadataName("Herald.TopicAttribute") is { } attribute
                ? new HeraldSymbols
                {
                    TopicAttribute = attribute,
                    EventBus = compilation.GetTypeByMetadataName("Herald.EventBus"),
                    Builder = compilation.GetTypeByMetadataName("Herald.HeraldBuilder"),
                    Topic = compilation.GetTypeByMetadataName("Herald.Topic"),
                    Handler = compilation.GetTypeByMetadataName("Herald.IEventHandler`1"),
                    Gates = compilation.GetTypeByMetadataName("Herald.TopicGates"),
                    Pattern = compilation.GetTypeByMetadataName("Herald.TopicPattern"),
                    JsonContext = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonSerializerContext"),
                    JsonSerializable = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonSerializableAttribute"),
                    JsonEventSerializer = compilation.GetTypeByMetadataName("Herald.SystemTextJsonEventSerializer"),
                    Serializers = compilation.GetTypeByMetadataName("Herald.EventSerializers"),
                    Upcasters = compilation.GetTypeByMetadataName("Herald.EventUpcasters"),
                }
                : null;
    }

    /// <summary>What one compilation's actions found, reported at its end (a binding may come after a use).</summary>
    private sealed class CompilationState(HeraldSymbols symbols)
    {
        private readonly ConcurrentBag<(ITypeSymbol Type, string What, Location Where)> _uses = new();
        private readonly ConcurrentBag<(ITypeSymbol Type, Location Where)> _handlers = new();
        private readonly ConcurrentDictionary<ITypeSymbol, byte> _published = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<ITypeSymbol, byte> _bound = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentBag<(ITypeSymbol Type, string Topic, int Version, Location Where)> _bindings = new();
        private readonly ConcurrentBag<(INamedTypeSymbol Context, ImmutableHashSet<ITypeSymbol> Listed, Location Where)> _jsonContexts = new();
        private readonly ConcurrentDictionary<ITypeSymbol, byte> _contextsGivenToHerald = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<ITypeSymbol, byte> _ownSerializer = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentBag<(ITypeSymbol Type, string What, Location Where)> _decodedOnly = new();
        private int _opaquePublishes;

        public void OnInvocation(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            IMethodSymbol method = invocation.TargetMethod;
            INamedTypeSymbol container = method.ContainingType.OriginalDefinition;
            Location where = invocation.Syntax.GetLocation();
            if (Is(container, symbols.EventBus))
            {
                switch (method.Name)
                {
                    case "PublishAsync" when method.TypeArguments.Length == 1 && Concrete(method.TypeArguments[0]):
                        Published(method.TypeArguments[0], "published", where);
                        return;
                    case "PublishAsync":
                        Interlocked.Exchange(ref _opaquePublishes, 1); // an object, a base type, an envelope: what it publishes is known at run time only
                        return;
                    case "Subscribe" when method.TypeArguments.Length == 1:
                        Use(method.TypeArguments[0], "subscribed to", where);
                        return;
                    case "Subscribe":
                        CheckPattern(context, invocation);
                        return;
                }
            }
            else if (Is(container, symbols.Builder))
            {
                switch (method.Name)
                {
                    case "Every" or "Cron" when method.TypeArguments.Length == 1:
                        Published(method.TypeArguments[0], "published by " + method.Name, where);
                        return;
                    case "AddHandler" when method.TypeArguments.Length == 2:
                        Use(method.TypeArguments[1], "handled", where);
                        if (Concrete(method.TypeArguments[1]))
                        {
                            _handlers.Add((method.TypeArguments[1], where));
                        }

                        return;
                    case "AddHandler":
                        CheckPattern(context, invocation);
                        return;
                    case "Topic" when method.TypeArguments.Length == 1:
                        Bind(context, invocation, method.TypeArguments[0]);
                        return;
                    case "UseSerializer" when method.TypeArguments.Length == 1:
                        _ownSerializer.TryAdd(method.TypeArguments[0], 0);
                        return;
                    case "Upcast" or "UpcastSnapshot" when method.TypeArguments.Length == 2:
                        _decodedOnly.Add((method.TypeArguments[0], "read through an upcaster", where)); // old payloads are decoded as it
                        return;
                }
            }
            else if (Is(container, symbols.Topic) && method.Name == "Bind")
            {
                if (method.TypeArguments.Length == 1)
                {
                    Bind(context, invocation, method.TypeArguments[0]);
                }
                else if (Argument(invocation, "eventType")?.Value is ITypeOfOperation typeOf)
                {
                    Bind(context, invocation, typeOf.TypeOperand);
                }
            }
            else if (Is(container, symbols.Serializers) && method.Name == "Use" && method.TypeArguments.Length == 1)
            {
                _ownSerializer.TryAdd(method.TypeArguments[0], 0);
            }
            else if (Is(container, symbols.Upcasters) && method.Name is "Register" or "RegisterSnapshot" && method.TypeArguments.Length == 2)
            {
                _decodedOnly.Add((method.TypeArguments[0], "read through an upcaster", where));
            }
            else if ((Is(container, symbols.Gates) && method.Name is "Block" or "Pause" or "Resume")
                || (Is(container, symbols.Pattern) && method.Name is "Parse"))
            {
                CheckPattern(context, invocation);
            }
        }

        /// <summary>Notes the JSON contexts handed to Herald (<c>new SystemTextJsonEventSerializer(AppJson.Default.Options)</c>): HERALD005 checks those.</summary>
        public void OnObjectCreation(OperationAnalysisContext context)
        {
            var creation = (IObjectCreationOperation)context.Operation;
            if (symbols.JsonContext is null || !Is(creation.Type?.OriginalDefinition as INamedTypeSymbol, symbols.JsonEventSerializer))
            {
                return;
            }

            foreach (IOperation operation in creation.Arguments.SelectMany(a => a.Descendants().Prepend(a)))
            {
                if (operation.Type is INamedTypeSymbol type && DerivesFrom(type, symbols.JsonContext))
                {
                    _contextsGivenToHerald.TryAdd(type, 0);
                }
            }
        }

        public void OnNamedType(SymbolAnalysisContext context)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (!SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, symbols.TopicAttribute)
                    || attribute.ConstructorArguments.Length != 1
                    || attribute.ConstructorArguments[0].Value is not string topic)
                {
                    continue;
                }

                Location where = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is AttributeSyntax { ArgumentList.Arguments.Count: > 0 } syntax
                    ? syntax.ArgumentList.Arguments[0].GetLocation()
                    : type.Locations.FirstOrDefault() ?? Location.None;
                if (TopicGrammar.ExplainTopic(topic) is { } problem)
                {
                    context.ReportDiagnostic(BadLiteral(where, topic, "topic", problem, TopicGrammar.ExplainTopic));
                    continue;
                }

                int version = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Version").Value.Value is int declared && declared > 0
                    ? declared
                    : VersionOf(attribute.NamedArguments.FirstOrDefault(a => a.Key == "DataSchema").Value.Value as string);
                _bindings.Add((type, topic, version, where));
            }

            if (symbols.JsonContext is not null && type.TypeKind == TypeKind.Class && DerivesFrom(type, symbols.JsonContext) && type.Locations.FirstOrDefault(l => l.IsInSource) is { } contextDeclared)
            {
                ImmutableHashSet<ITypeSymbol> listed = type.GetAttributes()
                    .Where(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, symbols.JsonSerializable) && a.ConstructorArguments.Length == 1)
                    .Select(a => a.ConstructorArguments[0].Value)
                    .OfType<ITypeSymbol>()
                    .ToImmutableHashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
                _jsonContexts.Add((type, listed, contextDeclared));
            }

            if (symbols.Handler is not null && type.TypeKind == TypeKind.Class && !type.IsAbstract)
            {
                foreach (INamedTypeSymbol handled in type.AllInterfaces)
                {
                    if (SymbolEqualityComparer.Default.Equals(handled.OriginalDefinition, symbols.Handler))
                    {
                        Use(handled.TypeArguments[0], $"handled by {type.Name}", type.Locations.FirstOrDefault() ?? Location.None);
                    }
                }
            }
        }

        public void OnEnd(CompilationAnalysisContext context)
        {
            var reported = new HashSet<(ISymbol, Location)>();
            foreach ((ITypeSymbol type, string what, Location where) in InSourceOrder(_uses, u => u.Where))
            {
                if (!HasTopic(type) && reported.Add((type, where)))
                {
                    Location? declaration = type.Locations.FirstOrDefault(l => l.IsInSource);
                    context.ReportDiagnostic(Diagnostic.Create(
                        Diagnostics.NoTopic,
                        where,
                        declaration is null ? null : new[] { declaration },
                        ImmutableDictionary<string, string?>.Empty.Add(SuggestedTopic, Suggest(type.Name)),
                        type.Name,
                        what));
                }
            }

            foreach (IGrouping<(string Topic, int Version), (ITypeSymbol Type, string Topic, int Version, Location Where)> sharing in _bindings.GroupBy(b => (b.Topic, b.Version)))
            {
                var byType = InSourceOrder(sharing.GroupBy(b => b.Type, SymbolEqualityComparer.Default).Select(g => InSourceOrder(g, b => b.Where).First()), b => b.Where).ToList();
                foreach ((ITypeSymbol type, string topic, int version, Location where) in byType.Skip(1))
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        Diagnostics.SharedTopic, where, type.Name, byType[0].Type.Name, topic, version == 1 ? string.Empty : $" at version {version}"));
                }
            }

            // The JSON contexts handed to Herald serialize its events: each event type (and each older version read through
            // an upcaster) must be in one of them, listed or reached through a listed type's members.
            var contexts = InSourceOrder(_jsonContexts.Where(c => _contextsGivenToHerald.ContainsKey(c.Context)), c => c.Where).ToList();
            if (contexts.Count > 0)
            {
                HashSet<ITypeSymbol> covered = Reachable(contexts.SelectMany(c => c.Listed));
                var missing = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
                foreach ((ITypeSymbol type, string what, Location where) in InSourceOrder(_uses.Concat(_decodedOnly), u => u.Where))
                {
                    if (Concrete(type) && !covered.Contains(type) && !_ownSerializer.ContainsKey(type) && missing.Add(type))
                    {
                        context.ReportDiagnostic(Diagnostic.Create(
                            Diagnostics.NotInJsonContext,
                            where,
                            new[] { contexts[0].Where },
                            ImmutableDictionary<string, string?>.Empty.Add(TypeToAdd, type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)),
                            type.Name,
                            what,
                            contexts[0].Context.Name));
                    }
                }
            }

            if (Volatile.Read(ref _opaquePublishes) != 0)
            {
                return; // something publishes what only run time knows: any handler's event may be among it
            }

            foreach ((ITypeSymbol type, Location where) in _handlers)
            {
                if (!_published.ContainsKey(type))
                {
                    context.ReportDiagnostic(Diagnostic.Create(Diagnostics.NeverPublished, where, type.Name));
                }
            }
        }

        /// <summary>The listed types and every type System.Text.Json's generator reaches from them (members, elements, type arguments).</summary>
        private static HashSet<ITypeSymbol> Reachable(IEnumerable<ITypeSymbol> listed)
        {
            var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
            var pending = new Stack<ITypeSymbol>(listed);
            while (pending.Count > 0)
            {
                ITypeSymbol type = pending.Pop();
                if (!seen.Add(type))
                {
                    continue;
                }

                if (type is IArrayTypeSymbol array)
                {
                    pending.Push(array.ElementType);
                }
                else if (type is INamedTypeSymbol named)
                {
                    foreach (ITypeSymbol argument in named.TypeArguments)
                    {
                        pending.Push(argument);
                    }

                    foreach (IPropertySymbol property in named.GetMembers().OfType<IPropertySymbol>())
                    {
                        if (!property.IsStatic && property.DeclaredAccessibility == Accessibility.Public && !property.IsIndexer)
                        {
                            pending.Push(property.Type);
                        }
                    }
                }
            }

            return seen;
        }

        private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol baseType)
        {
            for (INamedTypeSymbol? at = type.BaseType; at is not null; at = at.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(at, baseType))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>By file, then position: reports come out the same whatever order the concurrent actions ran in.</summary>
        private static IEnumerable<T> InSourceOrder<T>(IEnumerable<T> items, System.Func<T, Location> where) =>
            items.OrderBy(i => where(i).SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(i => where(i).SourceSpan.Start);

        private static bool Is(INamedTypeSymbol? container, INamedTypeSymbol? wanted) => wanted is not null && SymbolEqualityComparer.Default.Equals(container, wanted);

        /// <summary>A type whose topic the compiler can know: not object, an interface, an abstract base or a type parameter (their topic is the runtime type's).</summary>
        private static bool Concrete(ITypeSymbol type) =>
            type.TypeKind is TypeKind.Class or TypeKind.Struct && !type.IsAbstract && type.SpecialType == SpecialType.None;

        private void Use(ITypeSymbol type, string what, Location where)
        {
            if (Concrete(type))
            {
                _uses.Add((type, what, where));
            }
        }

        private void Published(ITypeSymbol type, string what, Location where)
        {
            Use(type, what, where);
            _published.TryAdd(type, 0);
        }

        private bool HasTopic(ITypeSymbol type) =>
            _bound.ContainsKey(type) || type.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, symbols.TopicAttribute));

        private void Bind(OperationAnalysisContext context, IInvocationOperation invocation, ITypeSymbol type)
        {
            _bound.TryAdd(type, 0);
            IArgumentOperation? argument = Argument(invocation, "topic");
            if (argument?.Value.ConstantValue is not { HasValue: true, Value: string topic })
            {
                return;
            }

            Location where = argument.Value.Syntax.GetLocation();
            if (TopicGrammar.ExplainTopic(topic) is { } problem)
            {
                context.ReportDiagnostic(BadLiteral(where, topic, "topic", problem, TopicGrammar.ExplainTopic));
                return;
            }

            int version = Argument(invocation, "version")?.Value.ConstantValue is { HasValue: true, Value: int declared } && declared > 0
                ? declared
                : VersionOf(Argument(invocation, "dataSchema")?.Value.ConstantValue.Value as string);
            _bindings.Add((type, topic, version, where));
        }

        private static void CheckPattern(OperationAnalysisContext context, IInvocationOperation invocation)
        {
            if (Argument(invocation, "pattern") is { Value.ConstantValue: { HasValue: true, Value: string pattern } } argument
                && TopicGrammar.ExplainPattern(pattern) is { } problem)
            {
                context.ReportDiagnostic(BadLiteral(argument.Value.Syntax.GetLocation(), pattern, "topic pattern", problem, TopicGrammar.ExplainPattern));
            }
        }

        private static IArgumentOperation? Argument(IInvocationOperation invocation, string name) =>
            invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == name);

        /// <summary>A HERALD002 diagnostic, carrying the lowercase spelling when that alone would make the literal valid.</summary>
        private static Diagnostic BadLiteral(Location where, string literal, string kind, string problem, System.Func<string, string?> explain)
        {
            string lower = literal.ToLowerInvariant();
            ImmutableDictionary<string, string?> properties = lower != literal && explain(lower) is null
                ? ImmutableDictionary<string, string?>.Empty.Add(SuggestedTopic, lower)
                : ImmutableDictionary<string, string?>.Empty;
            return Diagnostic.Create(Diagnostics.BadTopic, where, properties, literal, kind, problem);
        }

        /// <summary>The version a data schema carries in its last segment (<c>...:v2</c>), as Herald reads it; else 1.</summary>
        private static int VersionOf(string? dataSchema)
        {
            if (dataSchema is null)
            {
                return 1;
            }

            int start = dataSchema.LastIndexOfAny(new[] { ':', '/' }) + 1;
            string segment = dataSchema.Substring(start);
            return segment.Length >= 2 && (segment[0] == 'v' || segment[0] == 'V')
                && int.TryParse(segment.Substring(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int version) && version >= 1
                ? version
                : 1;
        }

        /// <summary>A topic from a type name: <c>UserCreated</c> to <c>user.created</c>, <c>OrderLineAdded</c> to <c>order.line-added</c>.</summary>
        private static string Suggest(string typeName)
        {
            string name = typeName.EndsWith("Event", System.StringComparison.Ordinal) && typeName.Length > 5 ? typeName.Substring(0, typeName.Length - 5) : typeName;
            var words = new List<string>();
            int start = 0;
            for (int i = 1; i <= name.Length; i++)
            {
                if (i == name.Length || (char.IsUpper(name[i]) && !char.IsUpper(name[i - 1])))
                {
                    string word = new string(name.Substring(start, i - start).ToLowerInvariant().Where(c => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')).ToArray());
                    if (word.Length > 0)
                    {
                        words.Add(word);
                    }

                    start = i;
                }
            }

            if (words.Count == 0)
            {
                return "domain.action";
            }

            string domain = char.IsDigit(words[0][0]) ? "e" + words[0] : words[0];
            return words.Count == 1 ? domain + ".occurred" : domain + "." + string.Join("-", words.Skip(1));
        }
    }
}
