namespace Herald.Nats;

/// <summary>Options of Herald's NATS JetStream transport.</summary>
public sealed class NatsOptions
{
    /// <summary>The server, e.g. <c>nats://127.0.0.1:4222</c> (several separated by commas; credentials as <c>nats://user:password@host:4222</c>). Required.</summary>
    public string Url { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>
    /// The JetStream stream that holds the events, created at startup when missing (file storage). One stream per
    /// application: every topic is a subject under <see cref="SubjectPrefix"/>. Default <c>HERALD</c>.
    /// </summary>
    public string Stream { get; set; } = "HERALD";

    /// <summary>The first subject token: topic <c>user.created</c> is subject <c>herald.user.created</c>. Default <c>herald</c>.</summary>
    public string SubjectPrefix { get; set; } = "herald";

    /// <summary>How long the stream keeps an event, handled or not (the stream is a log; consumers keep their own positions). Default 7 days.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The stream's duplicate window: a publish whose event id (<c>Nats-Msg-Id</c>) was stored within it is stored only
    /// once, so a publish retried after a lost acknowledgement is not handled twice. Default 2 minutes.
    /// </summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long the server waits for a delivery's acknowledgement before it delivers it again (to this or another member
    /// of the group). Herald reports progress (<c>+WPI</c>) for deliveries still being handled, so a long handler is not
    /// redelivered under its feet. Default 30 s.
    /// </summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long connecting to the server (TCP, the NATS handshake, creating the stream) may take before the publish or
    /// subscription that needed it fails. Default 15 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a publish waits for JetStream's acknowledgement (the event stored), waiting through a reconnect, before
    /// it fails with a <see cref="NatsPublishException"/>. Default 10 s.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The serializer of event payloads. Default System.Text.Json.</summary>
    public IEventSerializer Serializer { get; set; } = SystemTextJsonEventSerializer.CreateDefault();

    /// <summary>The stream of dead letters, <see cref="Stream"/> + <c>_DEAD_LETTERS</c>.</summary>
    internal string DeadLetterStream => Stream + "_DEAD_LETTERS";

    /// <summary>
    /// Whether connecting creates the streams when missing and adds subjects they lack (an application's start does);
    /// false for an operator's tool, which must find them as they are (a typo in a stream name or prefix is then an
    /// error, not a new stream).
    /// </summary>
    internal bool CreatesStreams { get; set; } = true;

    /// <summary>The subject prefix of dead letters: <see cref="SubjectPrefix"/> + <c>-dead-letter</c>, then the group.</summary>
    internal string DeadLetterPrefix => SubjectPrefix + "-dead-letter";

    internal void Validate()
    {
        foreach (string url in (Url ?? string.Empty).Split(',', StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "nats" && uri.Scheme != "tls" && uri.Scheme != "ws" && uri.Scheme != "wss"))
            {
                throw new ArgumentException($"NatsOptions.Url '{Redacted.NatsUrl(url)}' is not a nats://, tls://, ws:// or wss:// URL.", nameof(Url));
            }
        }

        if (string.IsNullOrEmpty(Stream) || Stream.Length > 200 || Stream.Any(c => c is '.' or '*' or '>' or '/' or '\\' || char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException($"NatsOptions.Stream '{Stream}' is not a JetStream stream name: letters, digits, '-' and '_', at most 200 characters.", nameof(Stream));
        }

        if (!NatsSubjects.IsToken(SubjectPrefix))
        {
            throw new ArgumentException($"NatsOptions.SubjectPrefix '{SubjectPrefix}' must be one subject token: letters, digits, '-' and '_'.", nameof(SubjectPrefix));
        }

        Positive(AckWait, nameof(AckWait), "the wait before a delivery is redelivered");
        Positive(ConnectTimeout, nameof(ConnectTimeout), "a connect never waits forever");
        Positive(PublishTimeout, nameof(PublishTimeout), "a publish never waits forever");
        Positive(DuplicateWindow, nameof(DuplicateWindow), "the window in which a republished event id is stored once");
        if (MaxAge < TimeSpan.Zero || (MaxAge > TimeSpan.Zero && MaxAge < DuplicateWindow))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAge), MaxAge, "NatsOptions.MaxAge must be zero (keep events until the stream's other limits) or at least the DuplicateWindow.");
        }

        ArgumentNullException.ThrowIfNull(Serializer);
    }

    private static void Positive(TimeSpan value, string name, string why)
    {
        if (value <= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, $"NatsOptions.{name} must be positive and finite: {why}.");
        }
    }
}
