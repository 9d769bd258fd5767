using Npgsql;

namespace Herald.Postgres;

/// <summary>
/// The versioned schema of Herald's tables in one PostgreSQL schema. The table <c>herald_schema</c> marks the schema as
/// Herald's and holds its version; migrations run under a transaction-level advisory lock (processes starting together
/// migrate one at a time), each in the same transaction as the version it sets. A schema with tables but no marker is
/// another application's, and a version above the newest known is a newer Herald's: both are refused, never touched.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The product name in the marker.</summary>
    public const string Product = "herald";

    /// <summary>Migration i takes the schema from version i to i + 1 (<c>{s}</c> is the schema's quoted name).</summary>
    internal static readonly string[] Migrations =
    [
        // 1: the event store. Every append takes the one row of event_positions first, so appends commit one after
        // another in position order: a reader that reads in position order never passes a position that commits later.
        """
        CREATE TABLE {s}.streams (
            stream_id text PRIMARY KEY,
            version bigint NOT NULL,
            max_count bigint,
            truncate_before bigint,
            deleted boolean NOT NULL DEFAULT false);
        CREATE TABLE {s}.events (
            position bigint PRIMARY KEY,
            stream_id text NOT NULL,
            version bigint NOT NULL,
            event_id text NOT NULL,
            type text NOT NULL,
            envelope bytea NOT NULL,
            recorded timestamptz NOT NULL DEFAULT now(),
            UNIQUE (stream_id, version));
        CREATE TABLE {s}.event_positions (
            id int PRIMARY KEY CHECK (id = 1),
            last bigint NOT NULL);
        INSERT INTO {s}.event_positions VALUES (1, 0);
        CREATE TABLE {s}.snapshots (
            stream_id text PRIMARY KEY,
            version bigint NOT NULL,
            state bytea NOT NULL,
            time timestamptz NOT NULL);
        CREATE TABLE {s}.checkpoints (
            name text PRIMARY KEY,
            position bigint NOT NULL,
            time timestamptz NOT NULL);
        CREATE FUNCTION {s}.append_events(p_stream text, p_expected bigint, p_ids text[], p_types text[], p_envelopes bytea[])
        RETURNS TABLE (accepted boolean, actual bigint, next_version bigint, last_position bigint)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_last bigint;
            v_version bigint := 0;
            v_deleted boolean := false;
            v_max bigint;
            v_truncate bigint;
            v_actual bigint;
            v_count int := coalesce(array_length(p_ids, 1), 0);
            v_keep bigint;
        BEGIN
            SELECT e.last INTO v_last FROM {s}.event_positions e WHERE e.id = 1 FOR UPDATE;
            SELECT s.version, s.deleted, s.max_count, s.truncate_before INTO v_version, v_deleted, v_max, v_truncate
                FROM {s}.streams s WHERE s.stream_id = p_stream;
            IF NOT FOUND THEN
                v_version := 0;
                v_deleted := false;
            END IF;
            v_actual := CASE WHEN v_deleted THEN 0 ELSE v_version END;
            -- expected: -1 any, -2 the stream exists, 0 no stream, n exactly n
            IF NOT (p_expected = -1 OR (p_expected = -2 AND v_actual > 0) OR (p_expected >= 0 AND v_actual = p_expected)) THEN
                RETURN QUERY SELECT false, v_actual, 0::bigint, 0::bigint;
                RETURN;
            END IF;
            IF v_count > 0 THEN
                INSERT INTO {s}.events (position, stream_id, version, event_id, type, envelope)
                    SELECT v_last + u.o, p_stream, v_version + u.o, u.i, u.t, u.e
                    FROM unnest(p_ids, p_types, p_envelopes) WITH ORDINALITY AS u(i, t, e, o);
                UPDATE {s}.event_positions SET last = v_last + v_count WHERE id = 1;
            END IF;
            INSERT INTO {s}.streams (stream_id, version) VALUES (p_stream, v_version + v_count)
                ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, deleted = false;
            v_keep := greatest(coalesce(v_truncate, 0), CASE WHEN v_max IS NULL THEN 0 ELSE v_version + v_count - v_max + 1 END);
            IF v_keep > 1 THEN
                DELETE FROM {s}.events WHERE stream_id = p_stream AND version < v_keep;
            END IF;
            RETURN QUERY SELECT true, v_actual, v_version + v_count, CASE WHEN v_count > 0 THEN v_last + v_count ELSE 0::bigint END;
        END
        $fn$;
        """,

        // 2: the durable bus. A publish writes one row per consumer group whose pattern matches (groups.regex), so
        // each group's members compete for its rows: claimed with FOR UPDATE SKIP LOCKED and a lease (claimed_until),
        // deleted when handled, put back (or delayed: due) otherwise. A group ordered by key claims a row only when no
        // earlier row of its key is left, so a key's events are handled one after another across processes and retries.
        """
        CREATE TABLE {s}.groups (
            name text PRIMARY KEY,
            pattern text NOT NULL,
            regex text NOT NULL,
            ordered boolean NOT NULL,
            created timestamptz NOT NULL DEFAULT now());
        CREATE TABLE {s}.messages (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            group_name text NOT NULL,
            event_id text NOT NULL,
            topic text NOT NULL,
            key text, -- for groups ordered by key only
            envelope bytea NOT NULL,
            due timestamptz NOT NULL DEFAULT now(),
            scheduled boolean NOT NULL DEFAULT false, -- a delayed publish: takes its place (a new seq) when due
            attempts int NOT NULL DEFAULT 0,
            claimed_by text,
            claimed_until timestamptz,
            published timestamptz NOT NULL DEFAULT now());
        CREATE INDEX messages_group ON {s}.messages (group_name, seq);
        CREATE INDEX messages_key ON {s}.messages (group_name, key, seq) WHERE key IS NOT NULL;
        CREATE TABLE {s}.dead_letters (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL UNIQUE,
            consumer text NOT NULL,
            topic text NOT NULL,
            reason text NOT NULL,
            exception_type text,
            exception_message text,
            attempts int NOT NULL,
            time timestamptz NOT NULL,
            envelope bytea NOT NULL);
        CREATE TABLE {s}.inbox (
            consumer text NOT NULL,
            event_id text NOT NULL,
            time timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id));
        CREATE INDEX inbox_time ON {s}.inbox (time);
        """,

        // 3: for operators. A group's consumers (the handlers that joined it: a dead letter names its consumer, and its
        // redrive goes to that consumer's group), and taps: groups with an expiry (the herald command's tail and
        // dashboard), routed to only while renewed, and removed with their rows once expired.
        """
        ALTER TABLE {s}.groups ADD COLUMN consumers text[] NOT NULL DEFAULT '{}', ADD COLUMN expires timestamptz;
        """,

        // 4: one index less per published row. The messages' key is (group, position): every statement on a row names
        // its group, and that index also serves the claims' scan of a group in order, which had an index of its own.
        """
        ALTER TABLE {s}.messages DROP CONSTRAINT messages_pkey;
        DROP INDEX {s}.messages_group;
        ALTER TABLE {s}.messages ADD PRIMARY KEY (group_name, seq);
        """,

        // 5: a snapshot records the version of its state type (1 for those saved before), so a newer state type reads
        // it through its upcasters.
        """
        ALTER TABLE {s}.snapshots ADD COLUMN state_version integer NOT NULL DEFAULT 1;
        """,
    ];

    /// <summary>The newest schema version this Herald knows.</summary>
    public static int Latest => Migrations.Length;

    /// <summary>Brings the schema to <see cref="Latest"/>, or refuses a foreign or newer one.</summary>
    /// <exception cref="PostgresSchemaException">The schema is another application's, or a newer Herald's.</exception>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, string schema, CancellationToken cancellationToken)
    {
        string s = Quote(schema);
        NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable connectionScope = connection.ConfigureAwait(false);
        NpgsqlTransaction tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable txScope = tx.ConfigureAwait(false);

        // One migrator at a time per schema (processes often start together); the others then find it current.
        await ExecuteAsync(connection, tx, "SELECT pg_advisory_xact_lock(hashtext('herald-schema:' || @schema))", cancellationToken, ("schema", schema)).ConfigureAwait(false);
        bool exists = await ScalarAsync<bool>(connection, tx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @schema)", cancellationToken, ("schema", schema)).ConfigureAwait(false);
        int version = 0;
        if (exists)
        {
            bool marked = await ScalarAsync<bool>(connection, tx, "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = @schema AND tablename = 'herald_schema')", cancellationToken, ("schema", schema)).ConfigureAwait(false);
            if (!marked)
            {
                long objects = await ScalarAsync<long>(connection, tx, """
                    SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = @schema)
                         + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = @schema)
                         + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = @schema AND t.typtype IN ('e', 'd', 'r', 'm'))
                    """, cancellationToken, ("schema", schema)).ConfigureAwait(false);
                if (objects > 0)
                {
                    throw new PostgresSchemaException($"The PostgreSQL schema '{schema}' holds {objects} object(s) but no herald_schema table: it is another application's. Give Herald a schema of its own (PostgresOptions.Schema).");
                }
            }
            else
            {
                NpgsqlCommand read = new($"SELECT product, version FROM {s}.herald_schema", connection, tx);
                await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable readScope = read.ConfigureAwait(false);
                NpgsqlDataReader reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable readerScope = reader.ConfigureAwait(false);
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new PostgresSchemaException($"The PostgreSQL schema '{schema}' has an empty herald_schema table: it was not made by Herald, or was damaged. Herald does not touch it.");
                }

                string product = reader.GetString(0);
                version = reader.GetInt32(1);
                if (product != Product)
                {
                    throw new PostgresSchemaException($"The PostgreSQL schema '{schema}' is marked as '{product}', not Herald's. Give Herald a schema of its own (PostgresOptions.Schema).");
                }
            }
        }

        if (version > Latest)
        {
            throw new PostgresSchemaException($"The PostgreSQL schema '{schema}' is at version {version}, made by a newer Herald; this one knows up to version {Latest}. Upgrade Herald (a schema is never migrated down).");
        }

        if (version == Latest)
        {
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!exists || version == 0)
        {
            await ExecuteAsync(connection, tx, $"CREATE SCHEMA IF NOT EXISTS {s}; CREATE TABLE {s}.herald_schema (product text NOT NULL, version int NOT NULL); INSERT INTO {s}.herald_schema VALUES ('{Product}', 0)", cancellationToken).ConfigureAwait(false);
        }

        for (int next = version; next < Latest; next++)
        {
            await ExecuteAsync(connection, tx, Migrations[next].Replace("{s}", s, StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, tx, $"UPDATE {s}.herald_schema SET version = {next + 1}", cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The schema's name as a quoted identifier.</summary>
    public static string Quote(string schema) => "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        NpgsqlCommand command = new NpgsqlCommand(sql, connection, tx);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable commandScope = command.ConfigureAwait(false);
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        NpgsqlCommand command = new NpgsqlCommand(sql, connection, tx);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable commandScope = command.ConfigureAwait(false);
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
