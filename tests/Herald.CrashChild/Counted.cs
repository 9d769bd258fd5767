namespace Herald.CrashChild;

[Topic(Topic)]
public sealed record Counted(long Number)
{
    public const string Topic = "crash.counted";
}
