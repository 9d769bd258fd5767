using Herald.Sqlite;
using Microsoft.Data.Sqlite;

namespace Herald.Tests.Support;

/// <summary>A database file in a fresh temporary directory, deleted (with its WAL files) at the end of the test.</summary>
public sealed class TempDatabase : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("herald-test-").FullName;

    public TempDatabase(string name = "herald.db") => File = Path.Combine(_directory, name);

    public string File { get; }

    public string ConnectionString => $"Data Source={File}";

    public SqliteOptions Options(SqliteSynchronous synchronous = SqliteSynchronous.Normal) =>
        new() { ConnectionString = ConnectionString, Synchronous = synchronous, PollInterval = TimeSpan.FromMilliseconds(20) };

    /// <summary>Runs SQL on the file directly (as a corrupting or inspecting tool would).</summary>
    public object? Scalar(string sql)
    {
        using var connection = new SqliteConnection(ConnectionString + ";Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a connection still open in a failing test: leave the temp directory
        }
    }
}
