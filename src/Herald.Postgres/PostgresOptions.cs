using System.Text.RegularExpressions;
using Npgsql;

namespace Herald.Postgres;

/// <summary>Where and how Herald keeps its data in PostgreSQL.</summary>
public sealed partial class PostgresOptions
{
    /// <summary>The Npgsql connection string, e.g. <c>Host=db;Database=app;Username=app;Password=…</c>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The PostgreSQL schema Herald's tables live in (created when missing); <c>herald</c> by default.</summary>
    public string Schema { get; set; } = "herald";

    /// <summary>How long a subscription waits for news before it reads again when nothing woke it (another process's appends); 250 ms by default.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The serializer of payloads and snapshots.</summary>
    public IEventSerializer Serializer { get; set; } = new SystemTextJsonEventSerializer();

    /// <summary>The clock (recorded times, waits).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks the options; the message names what is wrong (never the password).</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("PostgresOptions.ConnectionString is required (e.g. Host=127.0.0.1;Database=app;Username=app).");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"PostgresOptions.ConnectionString is not a valid Npgsql connection string: {ex.Message}");
        }

        if (!SchemaName().IsMatch(Schema ?? ""))
        {
            throw new ArgumentException($"PostgresOptions.Schema '{Schema}' is not a plain PostgreSQL identifier (lower-case letters, digits and '_', starting with a letter or '_', at most 63).");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("PostgresOptions.PollInterval must be positive.");
        }

        ArgumentNullException.ThrowIfNull(Serializer);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
