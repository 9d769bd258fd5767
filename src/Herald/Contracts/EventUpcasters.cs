using System.Collections.Concurrent;

namespace Herald;

/// <summary>
/// Upcasters: functions that turn an older version of an event into a newer one, so that events stored or in flight
/// when the code moved on stay readable. Registered for the whole process, as topic bindings are;
/// <c>h.Upcast&lt;TOld, TNew&gt;(...)</c> in <c>AddHerald</c> calls <see cref="Register{TOld, TNew}"/>. Every reader applies
/// them: handlers and subscriptions on every transport, the event store's streams and projections.
/// </summary>
/// <remarks>
/// An event's version travels in its <c>dataschema</c> (see <see cref="TopicAttribute.Version"/>). A reader of version
/// 3 given a version 1 event decodes it as the version 1 type and applies the upcasters 1 → 2 → 3 in turn; given a
/// version 4 event it cannot read, it fails the delivery with an <see cref="EventDecodingException"/> that says so,
/// and the event is dead-lettered with that reason instead of being misread.
/// </remarks>
public static class EventUpcasters
{
    private static readonly ConcurrentDictionary<(string Topic, int FromVersion), Step> Steps = new();
    private static readonly ConcurrentDictionary<Type, Step> StatesInto = new();
    private static readonly ConcurrentDictionary<Type, Type> StatesOutOf = new();
    private static readonly Lock RegisterLock = new();

    /// <summary>
    /// Registers <paramref name="upcast"/>, which turns a <typeparamref name="TOld"/> into a <typeparamref name="TNew"/>.
    /// Both types are bound to the same topic (by <see cref="TopicAttribute"/> or <see cref="Topic.Bind{TEvent}"/>),
    /// <typeparamref name="TOld"/> at a lower version. Chains are built from single steps: register 1 → 2 and 2 → 3,
    /// and a version 1 event is read as version 3. Registering the same step again with the same method does nothing.
    /// </summary>
    /// <param name="upcast">Makes the new event from the old; it must not return null. An exception it throws dead-letters the event with the reason.</param>
    /// <exception cref="InvalidTopicException">A type has no valid topic.</exception>
    /// <exception cref="InvalidOperationException">The types are on different topics, the new type's version is not higher, or another upcaster already starts at the old type's version.</exception>
    public static void Register<TOld, TNew>(Func<TOld, TNew> upcast)
        where TOld : notnull
        where TNew : notnull
    {
        ArgumentNullException.ThrowIfNull(upcast);
        TopicBinding from = Topic.BindingOf(typeof(TOld));
        TopicBinding to = Topic.BindingOf(typeof(TNew));
        if (from.Topic != to.Topic)
        {
            throw new InvalidOperationException(
                $"An upcaster from '{typeof(TOld).FullName}' (topic '{from.Topic}') to '{typeof(TNew).FullName}' (topic '{to.Topic}') crosses topics; "
                + "an upcaster turns one version of a topic's event into a later version of the same topic.");
        }

        if (from.Version >= to.Version)
        {
            throw new InvalidOperationException(
                $"An upcaster from '{typeof(TOld).FullName}' (version {from.Version} of '{from.Topic}') to '{typeof(TNew).FullName}' (version {to.Version}) does not go up; "
                + "give the new type a higher version ([Topic(\"...\", Version = N)] or h.Topic<T>(topic, version: N)).");
        }

        var step = new Step(typeof(TOld), typeof(TNew), to.Version, upcast, old => upcast((TOld)old));
        lock (RegisterLock)
        {
            if (Steps.TryGetValue((from.Topic, from.Version), out Step? held))
            {
                if (held.From == step.From && held.To == step.To && held.Registered.Method == upcast.Method)
                {
                    return; // a second host in the same process, say
                }

                throw new InvalidOperationException(
                    $"Version {from.Version} of '{from.Topic}' already has an upcaster, from '{held.From.FullName}' to '{held.To.FullName}'; one upcaster per version, chained a version at a time.");
            }

            Steps[(from.Topic, from.Version)] = step;
        }
    }

    /// <summary>
    /// Registers <paramref name="upcast"/> for snapshots: a stored snapshot whose state is a <typeparamref name="TOld"/>
    /// is read as a <typeparamref name="TNew"/> (<c>LoadSnapshotAsync</c>, <c>LoadAggregateAsync</c>). A state type's
    /// version is its place in its chain: 1, plus one for each upcaster that leads to it; a snapshot records the
    /// version it was saved at (1 for those saved before), so extend a chain at its newest end only (rename the old
    /// state type, add the new one and the step into it). Registering the same step again with the same method does
    /// nothing.
    /// </summary>
    /// <param name="upcast">Makes the new state from the old; it must not return null.</param>
    /// <exception cref="InvalidOperationException">A type is both ends, the new type already has a step into it, the old type one out of it, or the step closes a loop.</exception>
    public static void RegisterSnapshot<TOld, TNew>(Func<TOld, TNew> upcast)
        where TOld : notnull
        where TNew : notnull
    {
        ArgumentNullException.ThrowIfNull(upcast);
        if (typeof(TOld) == typeof(TNew))
        {
            throw new InvalidOperationException($"A snapshot upcaster from '{typeof(TOld).FullName}' to itself does nothing; it goes from the old state type to the new one.");
        }

        var step = new Step(typeof(TOld), typeof(TNew), 0, upcast, old => upcast((TOld)old));
        lock (RegisterLock)
        {
            if (StatesInto.TryGetValue(typeof(TNew), out Step? held))
            {
                if (held.From == step.From && held.Registered.Method == upcast.Method)
                {
                    return;
                }

                throw new InvalidOperationException($"The snapshot state '{typeof(TNew).FullName}' already has an upcaster into it, from '{held.From.FullName}'; one step into each version.");
            }

            if (StatesOutOf.TryGetValue(typeof(TOld), out Type? next))
            {
                throw new InvalidOperationException($"The snapshot state '{typeof(TOld).FullName}' already has an upcaster out of it, to '{next.FullName}'; chain a version at a time.");
            }

            for (Type at = typeof(TOld); StatesInto.TryGetValue(at, out Step? back); at = back.From)
            {
                if (back.From == typeof(TNew))
                {
                    throw new InvalidOperationException($"A snapshot upcaster from '{typeof(TOld).FullName}' to '{typeof(TNew).FullName}' closes a loop of upcasters.");
                }
            }

            StatesInto[typeof(TNew)] = step;
            StatesOutOf[typeof(TOld)] = typeof(TNew);
        }
    }

    /// <summary>The version of snapshot state type <paramref name="stateType"/>: 1, plus one for each upcaster leading to it.</summary>
    internal static int StateVersionOf(Type stateType)
    {
        int version = 1;
        for (Type at = stateType; StatesInto.TryGetValue(at, out Step? step); at = step.From)
        {
            version++;
        }

        return version;
    }

    /// <summary>
    /// How a snapshot saved at <paramref name="storedVersion"/> is read as <paramref name="stateType"/>: null when it is
    /// read as it is; else the older state type and the steps up from it.
    /// </summary>
    internal static Plan? StatePlanFor(Type stateType, int storedVersion)
    {
        int current = StateVersionOf(stateType);
        if (storedVersion >= current)
        {
            return null;
        }

        var steps = new List<Step>(current - storedVersion);
        Type at = stateType;
        for (int v = current; v > storedVersion; v--)
        {
            Step step = StatesInto[at];
            steps.Add(step);
            at = step.From;
        }

        steps.Reverse();
        return new Plan(at, steps);
    }

    /// <summary>
    /// What reading <paramref name="envelope"/>'s payload as <paramref name="type"/> takes: null when it is read as it
    /// is (the versions agree, or the type has no versions); else the older type to decode and the steps up from it.
    /// </summary>
    /// <exception cref="EventDecodingException">The event is newer than <paramref name="type"/>, or no chain of upcasters leads from its version to the type's.</exception>
    internal static Plan? PlanFor(Envelope envelope, Type type)
    {
        if (!Topic.TryBindingOf(type, out TopicBinding? binding)
            || binding.Topic != envelope.Type
            || string.Equals(envelope.DataSchema, binding.DataSchema, StringComparison.Ordinal))
        {
            return null;
        }

        int version = SchemaVersion.Of(envelope.DataSchema, binding.Topic);
        return version == binding.Version ? null : PlanFrom(envelope, version, binding, type);
    }

    /// <summary>
    /// True when <paramref name="envelope"/>'s event is a newer version of its topic than <paramref name="type"/>: an
    /// untyped reader (a pattern handler) then gets it undecoded, as it gets events of topics this process has no type for.
    /// </summary>
    internal static bool IsNewerThan(Envelope envelope, Type type) =>
        Topic.TryBindingOf(type, out TopicBinding? binding)
        && binding.Topic == envelope.Type
        && !string.Equals(envelope.DataSchema, binding.DataSchema, StringComparison.Ordinal)
        && SchemaVersion.Of(envelope.DataSchema, binding.Topic) > binding.Version;

    /// <summary>
    /// In process an event travels as its object: <paramref name="data"/>, an older version's object, upcast to
    /// <paramref name="type"/>; null when the two are not versions of one topic.
    /// </summary>
    /// <exception cref="EventDecodingException">The object is a newer version than <paramref name="type"/>, or no chain of upcasters leads from it to the type.</exception>
    internal static object? UpcastObject(Envelope envelope, object data, Type type)
    {
        if (!Topic.TryBindingOf(data.GetType(), out TopicBinding? from) || !Topic.TryBindingOf(type, out TopicBinding? to) || from.Topic != to.Topic || from.Version == to.Version)
        {
            return null;
        }

        Plan plan = PlanFrom(envelope, from.Version, to, type);
        return plan.DecodeAs == data.GetType() ? plan.Apply(envelope, data) : null;
    }

    private static Plan PlanFrom(Envelope envelope, int version, TopicBinding binding, Type type)
    {
        if (version > binding.Version)
        {
            throw new EventDecodingException(
                $"Event {envelope.Id} on '{envelope.Type}' is version {version} (dataschema '{envelope.DataSchema}'); this reader knows version {binding.Version} ({type.FullName}) "
                + "and cannot read a newer one. Deploy the code that knows the new version, then redrive the event.");
        }

        var steps = new List<Step>(binding.Version - version);
        int at = version;
        Type? decodeAs = null;
        while (at < binding.Version)
        {
            if (!Steps.TryGetValue((binding.Topic, at), out Step? step) || step.ToVersion > binding.Version)
            {
                throw new EventDecodingException(
                    $"Event {envelope.Id} on '{envelope.Type}' is version {version} and this reader reads version {binding.Version} ({type.FullName}), "
                    + $"but no upcaster starts at version {at}; register one in AddHerald, e.g. h.Upcast<TVersion{at}, TVersion{at + 1}>(old => new TVersion{at + 1}(...)).");
            }

            decodeAs ??= step.From;
            steps.Add(step);
            at = step.ToVersion;
        }

        return new Plan(decodeAs!, steps);
    }

    /// <summary>One upcaster: from a type to the next version's type.</summary>
    internal sealed record Step(Type From, Type To, int ToVersion, Delegate Registered, Func<object, object> Apply);

    /// <summary>How an older event is read: decoded as <see cref="DecodeAs"/>, then each step applied in turn.</summary>
    internal sealed record Plan(Type DecodeAs, IReadOnlyList<Step> Steps)
    {
        /// <summary>The event at the reader's version.</summary>
        /// <exception cref="EventDecodingException">An upcaster threw or returned null.</exception>
        public object Apply(Envelope envelope, object old)
        {
            object value = old;
            foreach (Step step in Steps)
            {
                try
                {
                    value = step.Apply(value) ?? throw new InvalidOperationException("it returned null");
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    throw new EventDecodingException(
                        $"Event {envelope.Id} on '{envelope.Type}' cannot be upcast from {step.From.FullName} to {step.To.FullName}: the upcaster threw {ex.GetType().Name} ({ex.Message}).", ex);
                }
            }

            return value;
        }
    }
}
