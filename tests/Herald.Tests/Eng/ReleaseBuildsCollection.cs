namespace Herald.Tests.Eng;

/// <summary>
/// The tests that build the libraries again (packing, publishing with native AOT): each keeps both cores busy for a
/// minute or more, so they run on their own, after the parallel tests, instead of starving the timing-sensitive ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReleaseBuildsCollection
{
    public const string Name = "Release builds";
}
