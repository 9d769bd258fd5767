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

    /// <summary>How long a reader waits before it looks again when nothing woke it (a notification lost, a delayed event coming due); 250 ms by default.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a member's claim on a message lasts without renewal: a member that dies holding messages has them
    /// taken over by the others after this (renewed every third of it while a handler runs); 30 s by default.
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the inbox remembers a handled event id (entries older are deleted); 7 days by default.</summary>
    public TimeSpan InboxRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The serializer of payloads and snapshots.</summary>
    public IEventSerializer Serializer { get; set; } = SystemTextJsonEventSerializer.CreateDefault();

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

        if (ClaimLease < TimeSpan.FromSeconds(1) || InboxRetention <= TimeSpan.Zero)
        {
            throw new ArgumentException("PostgresOptions: ClaimLease must be at least 1 s and InboxRetention positive.");
        }

        ArgumentNullException.ThrowIfNull(Serializer);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
