using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Herald.Sqlite;

/// <summary>
/// A prepared INSERT of a fixed number of rows, run through SQLite's C API on a Microsoft.Data.Sqlite connection (in
/// whatever transaction that connection has open) and bound by position. The writer's hot statements go through it:
/// Microsoft.Data.Sqlite binds each parameter by name (a lookup that scans the statement's parameter names, so a
/// 48-parameter insert made over a thousand string comparisons), and allocates a binder and UTF-8 copies of the name and
/// of each text value, for every parameter of every execution. Here text is bound as UTF-16 from the string itself.
/// </summary>
internal sealed class RawInsert : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly int _columns;

    /// <summary>Prepares an INSERT of <paramref name="rows"/> rows of <paramref name="columns"/> into <paramref name="table"/>, followed by <paramref name="suffix"/>.</summary>
    /// <exception cref="SqliteException">SQLite refused the statement (a table missing, say).</exception>
    public RawInsert(SqliteConnection connection, string table, string[] columns, int rows, string? suffix = null)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        _columns = columns.Length;
        var sql = new System.Text.StringBuilder($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ");
        string row = "(" + string.Join(", ", Enumerable.Repeat("?", columns.Length)) + ")";
        for (int r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? row : ", " + row);
        }

        if (suffix is not null)
        {
            sql.Append(' ').Append(suffix);
        }

        int rc = raw.sqlite3_prepare_v2(_db, sql.ToString(), out _statement);
        if (rc != raw.SQLITE_OK)
        {
            _statement.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    /// <summary>Binds row <paramref name="row"/>'s column <paramref name="column"/> (both from 0) to <paramref name="value"/>, or to NULL.</summary>
    public void Text(int row, int column, string? value)
    {
        int index = Index(row, column);
        Check(value switch
        {
            null => raw.sqlite3_bind_null(_statement, index),
            "" => raw.sqlite3_bind_text(_statement, index, string.Empty), // an empty span would bind NULL
            _ => raw.sqlite3_bind_text16(_statement, index, value.AsSpan()),
        });
    }

    /// <summary>Binds a column to an integer.</summary>
    public void Integer(int row, int column, long value) => Check(raw.sqlite3_bind_int64(_statement, Index(row, column), value));

    /// <summary>Binds a column to a blob (copied by SQLite).</summary>
    public void Blob(int row, int column, byte[] value) => Check(raw.sqlite3_bind_blob(_statement, Index(row, column), value));

    /// <summary>Runs the insert with the values bound; returns the rows it inserted.</summary>
    /// <exception cref="SqliteException">SQLite failed the insert (the commit it belongs to fails with it).</exception>
    public int Execute()
    {
        int rc = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement); // ready for the next execution, and no statement left running at COMMIT
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return raw.sqlite3_changes(_db);
    }

    public void Dispose() => _statement.Dispose();

    private int Index(int row, int column) => (row * _columns) + column + 1;

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
