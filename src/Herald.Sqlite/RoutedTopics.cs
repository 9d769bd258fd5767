using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// Which topics some consumer group in the file reads: the patterns of every registered member (of this process or
/// another, running or away: a registered group reads what was published while it was away), refreshed when this
/// process registers one and on the scheduler's poll. A publish no pattern matches is reported as unrouted. Topic
/// answers are cached per snapshot of the patterns, so the publish path asks nothing of the file.
/// </summary>
internal sealed class RoutedTopics
{
    private Snapshot _current = new([]);

    /// <summary>Whether a registered member's pattern matches <paramref name="topic"/>.</summary>
    public bool IsRouted(string topic)
    {
        Snapshot snapshot = Volatile.Read(ref _current);
        return snapshot.Answers.GetOrAdd(topic, static (t, patterns) => patterns.Any(p => p.IsMatch(t)), snapshot.Patterns);
    }

    /// <summary>Reads the members' patterns from the file; a new snapshot only when they changed.</summary>
    public void Refresh(SqliteConnection connection)
    {
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT DISTINCT pattern FROM herald_members ORDER BY pattern";
        var patterns = new List<string>();
        using (SqliteDataReader reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                patterns.Add(reader.GetString(0));
            }
        }

        Snapshot current = Volatile.Read(ref _current);
        if (!current.Patterns.Select(p => p.Value).SequenceEqual(patterns, StringComparer.Ordinal))
        {
            Volatile.Write(ref _current, new Snapshot([.. patterns.Select(TopicPattern.Parse)]));
        }
    }

    private sealed record Snapshot(TopicPattern[] Patterns)
    {
        public ConcurrentDictionary<string, bool> Answers { get; } = new(StringComparer.Ordinal);
    }
}
