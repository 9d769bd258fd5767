namespace Herald.Cli;

/// <summary>The kinds of place the command knows, in the order help lists their options. A transport's view is added here.</summary>
internal static class SystemKinds
{
    public static IReadOnlyList<SystemKind> All { get; } = [new SqliteSystemKind(), new RabbitMqSystemKind(), new NatsSystemKind(), new PostgresSystemKind()];
}
