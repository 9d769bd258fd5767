namespace Herald.PostgresChild;

/// <summary>Which member this process is, and the database its effects go to.</summary>
public sealed record Member(string Name, string ConnectionString);
