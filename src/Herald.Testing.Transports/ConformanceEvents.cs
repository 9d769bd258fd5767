namespace Herald.Testing.Transports;

/// <summary>The suite's main event: an id and an ordering key.</summary>
/// <param name="Id">Unique within a test.</param>
/// <param name="Key">The ordering key it is published with.</param>
[Topic("conformance.placed")]
public sealed record Placed(int Id, string Key);

/// <summary>A second two-segment topic, for patterns.</summary>
/// <param name="Id">Unique within a test.</param>
[Topic("conformance.paid")]
public sealed record Paid(int Id);

/// <summary>A three-segment topic: <c>conformance.*</c> must not match it, <c>conformance.#</c> must.</summary>
/// <param name="Id">Unique within a test.</param>
[Topic("conformance.shipped.late")]
public sealed record ShippedLate(int Id);

/// <summary>An event whose constructor refuses an empty name: valid JSON for it can still be poison.</summary>
[Topic("conformance.strict")]
public sealed record Strict
{
    /// <summary>Creates the event.</summary>
    /// <param name="name">Not empty.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public Strict(string name)
    {
        Name = !string.IsNullOrEmpty(name) ? name : throw new ArgumentException("Strict.Name must not be empty.", nameof(name));
    }

    /// <summary>The name.</summary>
    public string Name { get; }
}
