namespace Herald.Benchmarks.Micro;

[Topic("user.created")]
public sealed record MicroEvent(long Id);
