namespace Herald.Tests.Support;

/// <summary>
/// Tests that build the libraries again (packing in Release, publishing with native AOT) take turns: they share the
/// projects' restore files (obj/project.assets.json), which an AOT publish rewrites for its runtime.
/// </summary>
public static class ReleaseBuilds
{
    public static SemaphoreSlim Gate { get; } = new(1, 1);
}
