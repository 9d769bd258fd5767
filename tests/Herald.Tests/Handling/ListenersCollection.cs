namespace Herald.Tests.Handling;

/// <summary>
/// Tests that attach listeners to Herald's <c>ActivitySource</c> and <c>Meter</c> (both named "Herald", shared by
/// every bus in the process), or that assert nothing is listening: run alone, so one's listener never shows in another.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ListenersCollection
{
    public const string Name = "Herald's listeners";
}
