namespace Herald.Dashboard.Systems;

/// <summary>Who publishes which topics and who consumes them: publishers (CloudEvents sources), topics, groups and their members.</summary>
internal sealed record TopologyView(IReadOnlyList<TopicView> Topics, IReadOnlyList<GroupView> Groups)
{
    /// <summary>The groups whose members' patterns match <paramref name="topic"/>.</summary>
    public IEnumerable<GroupView> ConsumersOf(string topic) =>
        Groups.Where(g => g.Members.Any(m => TopicPattern.TryParse(m.Pattern, out TopicPattern? p) && p.IsMatch(topic)));
}

/// <summary>A topic: how many of its events the view holds, its rate over the last minute, and who published it.</summary>
internal sealed record TopicView(string Name, long Count, double RatePerSecond, IReadOnlyList<string> Sources);

/// <summary>A consumer group (or queue): its members, how far behind it is, and who reads it now.</summary>
internal sealed record GroupView(string Name, long Depth, long? Checkpoint, string? Owner, IReadOnlyList<MemberView> Members, IReadOnlyDictionary<string, long> DepthByTopic)
{
    /// <summary>Extra facts shown beside the group (consumers, rates), by name.</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();
}

/// <summary>A handler or subscription in a group: its name, its topic pattern, and the event type it reads.</summary>
internal sealed record MemberView(string Name, string Pattern, string? EventType);
