using System.Collections.Concurrent;
using Herald.Transport;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Herald.Nats;

/// <summary>
/// The bus on NATS JetStream: one stream per application (<see cref="NatsOptions.Stream"/>, file storage) holding every
/// topic as a subject under <see cref="NatsOptions.SubjectPrefix"/>; a durable pull consumer per consumer group and
/// filter; a publish completes when JetStream stored the event (its id as <c>Nats-Msg-Id</c>, so a retried publish is
/// stored once); acknowledgements after the handler pipeline. See docs/nats.md.
/// </summary>
/// <remarks>
/// The connection is made on first use (a publish, a subscription), bounded by <see cref="NatsOptions.ConnectTimeout"/>
/// and the caller's token: a server that accepts TCP and never speaks NATS fails the start with a clear exception.
/// </remarks>
internal sealed class NatsTransport : ITransport
{
    /// <summary>How often the consumers' filters on the stream are read again, for counting unrouted publishes.</summary>
    private static readonly TimeSpan RoutesRefresh = TimeSpan.FromSeconds(1);

    private readonly NatsOptions _options;
    private readonly TransportContext _context;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly List<NatsConsumer> _consumers = [];
    private readonly Lock _lock = new();
    private readonly HashSet<string> _ownFilters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TopicPattern> _groupPatterns = new(StringComparer.Ordinal);
    private NatsConnection? _connection;
    private NatsJSContext? _js;
    private volatile string[] _routes = [];
    private ConcurrentDictionary<string, bool> _routed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _subjects = new(StringComparer.Ordinal);
    private long _routesReadAt;
    private int _refreshingRoutes;
    private bool _disposed;

    public NatsTransport(NatsOptions options, TransportContext context)
    {
        options.Validate();
        _options = options;
        _context = context;
    }

    public ILogger Logger => _context.Logger;

    public TimeProvider Time => _context.TimeProvider;

    public NatsOptions Options => _options;

    /// <summary>The first server's host and port (the URL without its credentials), for messages.</summary>
    public string Endpoint => Uri.TryCreate(_options.Url.Split(',')[0].Trim(), UriKind.Absolute, out Uri? uri) ? $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 4222)}" : Redacted.NatsUrl(_options.Url);

    public async ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        NatsJSContext js = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        string subject = _subjects.GetOrAdd(envelope.Type, static (topic, prefix) => NatsSubjects.Of(prefix, topic), _options.SubjectPrefix);
        (NatsHeaders headers, ReadOnlyMemory<byte> body) = NatsCloudEvents.Encode(envelope, _options.Serializer);
        await PublishStoredAsync(js, subject, headers, body, envelope.Id, what: null, cancellationToken, envelope).ConfigureAwait(false);
        if (!IsRouted(subject))
        {
            // Stored, as on every transport, but no group's filter takes it: counted, logged and metered as unrouted.
            _context.ReportUnrouted(envelope);
        }
    }

    /// <summary>
    /// Publishes and waits for JetStream's acknowledgement, through a reconnect, up to <see cref="NatsOptions.PublishTimeout"/>
    /// (plus at most one acknowledgement wait of the client, 5 s at the most, when the first attempt was written):
    /// attempts that get no answer (no responders while the server restarts, a lost acknowledgement) are repeated with
    /// the same message id, which the stream stores once.
    /// </summary>
    /// <param name="js">The JetStream context of this transport's connection.</param>
    /// <param name="subject">The subject to publish on.</param>
    /// <param name="headers">The message's headers.</param>
    /// <param name="body">The message's body.</param>
    /// <param name="messageId">The <c>Nats-Msg-Id</c> (the stream stores one message per id in its duplicate window); null for none.</param>
    /// <param name="what">What is published, for messages (<paramref name="envelope"/> describes it when null).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="envelope">The event published, described only when a message needs it (no text per publish).</param>
    /// <exception cref="NatsPublishException">Not stored within the timeout, or refused (the stream full); the message says which.</exception>
    public async ValueTask<PubAckResponse> PublishStoredAsync(
        NatsJSContext js, string subject, NatsHeaders headers, ReadOnlyMemory<byte> body, string? messageId, string? what, CancellationToken cancellationToken, Envelope? envelope = null)
    {
        var opts = new NatsJSPubOpts { MsgId = messageId, RetryAttempts = 1 };
        long started = Time.GetTimestamp();
        try
        {
            // The first attempt needs no timer of its own: the client bounds its write (CommandTimeout) and its wait
            // for the acknowledgement (RequestTimeout), both within PublishTimeout.
            return Stored(await js.PublishAsync(subject, body, NatsRawSerializer<ReadOnlyMemory<byte>>.Default, opts, headers, cancellationToken).ConfigureAwait(false), subject, what, envelope);
        }
        catch (NatsPayloadTooLargeException ex)
        {
            throw new NatsPublishException($"{Describe(what, envelope)} is larger than the server's max_payload ({ex.Message}).", ex);
        }
        catch (Exception ex) when ((ex is NatsException && ex is not NatsJSApiException) || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // No answer, or the connection down past CommandTimeout: again with the same id, within PublishTimeout.
            return await RetryStoredAsync(js, subject, headers, body, opts, Describe(what, envelope), ex, started, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Attempts after one that got no answer (no responders while the server restarts, a lost acknowledgement, the
    /// connection down), with the same message id, until <see cref="NatsOptions.PublishTimeout"/> from the first.
    /// </summary>
    private async ValueTask<PubAckResponse> RetryStoredAsync(
        NatsJSContext js, string subject, NatsHeaders headers, ReadOnlyMemory<byte> body, NatsJSPubOpts opts, string what, Exception first, long started, CancellationToken cancellationToken)
    {
        TimeSpan left = _options.PublishTimeout - Time.GetElapsedTime(started);
        using var timeout = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1), Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        Exception last = first;
        while (true)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), Time, linked.Token).ConfigureAwait(false);
                return Stored(await js.PublishAsync(subject, body, NatsRawSerializer<ReadOnlyMemory<byte>>.Default, opts, headers, linked.Token).ConfigureAwait(false), subject, what);
            }
            catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new NatsPublishException(
                    $"JetStream at {Endpoint} did not store {what} within {_options.PublishTimeout.TotalSeconds:0.#} s (NatsOptions.PublishTimeout): "
                    + $"is the server up, and does the stream '{_options.Stream}' take '{subject}'? (last: {last.GetType().Name}: {last.Message})", last is OperationCanceledException ? ex : last);
            }
            catch (NatsPayloadTooLargeException ex)
            {
                throw new NatsPublishException($"{what} is larger than the server's max_payload ({ex.Message}).", ex);
            }
            catch (Exception ex) when ((ex is NatsException && ex is not NatsJSApiException) || (ex is OperationCanceledException && !linked.IsCancellationRequested))
            {
                last = ex; // tried again with the same id until the timeout; the stream stores the event once
            }
        }
    }

    /// <summary>The acknowledgement of a stored message; a refusal (the stream full, the message too large) throws.</summary>
    private static string Describe(string? what, Envelope? envelope) => what ?? (envelope is null ? "a message" : $"event {envelope.Id} ('{envelope.Type}')");

    private PubAckResponse Stored(PubAckResponse ack, string subject, string? what, Envelope? envelope = null)
    {
        if (ack.Error is { } error)
        {
            throw new NatsPublishException(
                error.ErrCode == 10077
                    ? $"JetStream refused {Describe(what, envelope)}: the stream '{ack.Stream ?? _options.Stream}' is full ({error.Description}). Raise its limits or let consumers catch up."
                    : $"JetStream refused {Describe(what, envelope)} on '{subject}': {error.Description} (error {error.ErrCode}).")
            { ErrorCode = error.ErrCode };
        }

        return ack;
    }

    /// <summary>The connection and JetStream context, made once (the streams created), within the connect timeout.</summary>
    /// <exception cref="TimeoutException">The server did not complete the connection within <see cref="NatsOptions.ConnectTimeout"/>.</exception>
    public async ValueTask<NatsJSContext> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _js) is { } ready)
        {
            return ready;
        }

        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        NatsConnection? connection = null;
        try
        {
            await _connecting.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_js is not null)
                {
                    return _js;
                }

                connection = new NatsConnection(new NatsOpts
                {
                    Url = _options.Url,
                    Name = "herald",
                    ConnectTimeout = _options.ConnectTimeout,
                    RequestTimeout = TimeSpan.FromSeconds(Math.Min(5, _options.PublishTimeout.TotalSeconds)),
                    CommandTimeout = _options.PublishTimeout,
                    MaxReconnectRetry = -1,
                    ReconnectWaitMin = TimeSpan.FromMilliseconds(250),
                    ReconnectWaitMax = TimeSpan.FromSeconds(2),

                    // A write while the connection is down waits for the reconnect at most CommandTimeout, not forever.
                    PublishTimeoutOnDisconnected = true,
                });
                connection.ConnectionDisconnected += OnDisconnectedAsync;
                connection.ConnectionOpened += OnOpenedAsync;
                await connection.ConnectAsync().AsTask().WaitAsync(linked.Token).ConfigureAwait(false);
                if (connection.ServerInfo is { JetStreamAvailable: false })
                {
                    throw new InvalidOperationException($"The NATS server at {Endpoint} runs without JetStream: start it with -js (or jetstream {{}} in its configuration).");
                }

                var js = new NatsJSContext(connection);
                await EnsureStreamsAsync(js, linked.Token).ConfigureAwait(false);
                await RefreshRoutesAsync(js, linked.Token).ConfigureAwait(false);
                _connection = connection;
                connection = null;
                Volatile.Write(ref _js, js);
                return js;
            }
            finally
            {
                _connecting.Release();
            }
        }
        catch (Exception ex) when ((ex is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                                   || (ex is NatsException && ex.InnerException is TimeoutException))
        {
            throw new TimeoutException(
                $"NATS at {Endpoint} did not complete the connection within {_options.ConnectTimeout.TotalSeconds:0.#} s (NatsOptions.ConnectTimeout): "
                + "is it a NATS server with JetStream enabled, and is it answering?", ex);
        }
        catch (NatsException ex) when (ex is not NatsJSApiException)
        {
            throw new InvalidOperationException($"Could not connect to NATS at {Endpoint}: {ex.Message} {ex.InnerException?.Message}", ex);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        NatsLog.Disconnected(Logger, Endpoint, args.Message);
        return ValueTask.CompletedTask;
    }

    private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        NatsLog.Connected(Logger, Endpoint);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Creates the events' stream and the dead letters' stream when missing, with Herald's settings. An existing stream
    /// is the operator's: its limits, age and duplicate window stay as they are set (a start never undoes
    /// <c>nats stream edit</c>); only subjects Herald needs and the stream lacks are added.
    /// </summary>
    private async Task EnsureStreamsAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        var events = new StreamConfig(_options.Stream, [_options.SubjectPrefix + ".>", RedrivePrefix + ".>"])
        {
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
            MaxAge = _options.MaxAge,
            DuplicateWindow = _options.DuplicateWindow,
            Description = "Herald events: one subject per topic.",
        };
        var deadLetters = new StreamConfig(_options.DeadLetterStream, [_options.DeadLetterPrefix + ".>"])
        {
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
            DuplicateWindow = TimeSpan.FromMinutes(2),
            Description = "Herald dead letters: one subject per consumer group, the reason in Herald-* headers.",
        };
        foreach (StreamConfig config in new[] { events, deadLetters })
        {
            if (!_options.CreatesStreams)
            {
                await RequireStreamAsync(js, config, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                await EnsureStreamAsync(js, config, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException ex)
            {
                throw new InvalidOperationException(
                    $"The JetStream stream '{config.Name}' for {string.Join(", ", config.Subjects ?? [])} could not be created or updated: {ex.Error.Description} (error {ex.Error.ErrCode}). "
                    + "Another stream may already take these subjects (choose NatsOptions.Stream and SubjectPrefix), or the existing stream differs in a setting JetStream cannot change.", ex);
            }
        }
    }

    /// <summary>Checks that the stream exists and takes Herald's subjects, changing nothing.</summary>
    private static async Task RequireStreamAsync(NatsJSContext js, StreamConfig config, CancellationToken cancellationToken)
    {
        INatsJSStream existing;
        try
        {
            existing = await js.GetStreamAsync(config.Name!, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10059)
        {
            throw new InvalidOperationException(
                $"The JetStream stream '{config.Name}' does not exist on the server. Check the stream name (an application with Herald creates it at its start; this tool does not).", ex);
        }

        ICollection<string> subjects = existing.Info.Config.Subjects ?? [];
        string[] missing = [.. (config.Subjects ?? []).Where(s => !subjects.Contains(s))];
        if (missing.Length > 0)
        {
            throw new InvalidOperationException(
                $"The JetStream stream '{config.Name}' does not take {string.Join(", ", missing)} (it takes {string.Join(", ", subjects)}). Check the subject prefix.");
        }
    }

    private static async Task EnsureStreamAsync(NatsJSContext js, StreamConfig config, CancellationToken cancellationToken)
    {
        INatsJSStream existing;
        try
        {
            existing = await js.GetStreamAsync(config.Name!, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10059)
        {
            await js.CreateStreamAsync(config, cancellationToken).ConfigureAwait(false);
            return;
        }

        ICollection<string> subjects = existing.Info.Config.Subjects ?? [];
        string[] missing = [.. (config.Subjects ?? []).Where(s => !subjects.Contains(s))];
        if (missing.Length > 0)
        {
            StreamConfig updated = existing.Info.Config;
            updated.Subjects = [.. subjects, .. missing];
            await js.UpdateStreamAsync(updated, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The subjects of redrives: <c>{prefix}-redrive.{consumer}</c>, in the events' stream, each group's own.</summary>
    public string RedrivePrefix => _options.SubjectPrefix + "-redrive";

    public async ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Overflow != Overflow.Wait)
        {
            throw new NotSupportedException(
                $"Consumer '{spec.Name}' asks for Overflow.{spec.Overflow}, which the NATS transport cannot honour: its group's events wait in the JetStream stream "
                + "until a member takes them, and a publish never waits for a consumer (Overflow.Wait, the default, is what it does). "
                + "Remove the Overflow setting for this consumer, or bound the stream itself (MaxAge, its byte and message limits).");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        lock (_lock)
        {
            // A group is one set of durable consumers with one filter each (NATS 2.9): its members share the pattern.
            if (_groupPatterns.TryGetValue(spec.GroupName, out TopicPattern? pattern) && !pattern.Equals(spec.Pattern))
            {
                throw new NotSupportedException(
                    $"Consumer '{spec.Name}' joins group '{spec.GroupName}' with pattern '{spec.Pattern}', but the group already consumes '{pattern}': on NATS a group's "
                    + "durable consumers have one filter each, so its members must share the pattern. Give the consumer a group of its own.");
            }

        }

        NatsJSContext js = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        (IReadOnlyList<string> filters, bool approximate) = NatsSubjects.Filters(_options.SubjectPrefix, spec.Pattern, single: spec.Ordered);
        lock (_lock)
        {
            _ownFilters.UnionWith(filters);
            _routed = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        }

        NatsConsumer consumer = await NatsConsumer.StartAsync(this, js, spec, filters, approximate, cancellationToken).ConfigureAwait(false);
        bool disposed;
        lock (_lock)
        {
            disposed = _disposed;
            if (!disposed)
            {
                _consumers.Add(consumer);
                _groupPatterns[spec.GroupName] = spec.Pattern; // once it runs: a group that failed to start blocks nothing
            }
        }

        if (disposed)
        {
            // The transport stopped while this consumer started: it must not run on unseen.
            await consumer.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(NatsTransport));
        }

        return consumer;
    }

    public void Forget(NatsConsumer consumer)
    {
        lock (_lock)
        {
            _consumers.Remove(consumer);
        }
    }

    /// <summary>Whether some consumer's filter on the stream takes <paramref name="subject"/> (this process's at once, the others' as last read).</summary>
    private bool IsRouted(string subject)
    {
        long now = Time.GetTimestamp();
        if (Time.GetElapsedTime(Interlocked.Read(ref _routesReadAt), now) > RoutesRefresh && Interlocked.Exchange(ref _refreshingRoutes, 1) == 0 && _js is { } js)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await RefreshRoutesAsync(js, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NatsException or OperationCanceledException or ObjectDisposedException)
                {
                    // the server is away, or the transport stopping: keep the last filters, read them again on a later publish
                }
                finally
                {
                    Volatile.Write(ref _refreshingRoutes, 0);
                }
            });
        }

        return _routed.GetOrAdd(subject, Route);
    }

    /// <summary>Whether a filter of this process or of the stream's consumers (as last read) takes <paramref name="subject"/>.</summary>
    private bool Route(string subject)
    {
        lock (_lock)
        {
            if (_ownFilters.Any(f => NatsSubjects.Matches(f, subject)))
            {
                return true;
            }
        }

        return _routes.Any(f => NatsSubjects.Matches(f, subject));
    }

    private async Task RefreshRoutesAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        var filters = new List<string>();
        await foreach (INatsJSConsumer consumer in js.ListConsumersAsync(_options.Stream, cancellationToken).ConfigureAwait(false))
        {
            filters.Add(string.IsNullOrEmpty(consumer.Info.Config.FilterSubject) ? ">" : consumer.Info.Config.FilterSubject);
        }

        _routes = [.. filters];
        _routed = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal); // answers again from the new filters
        Interlocked.Exchange(ref _routesReadAt, Time.GetTimestamp());
    }

    public async ValueTask DisposeAsync()
    {
        NatsConsumer[] consumers;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            consumers = [.. _consumers];
        }

        foreach (NatsConsumer consumer in consumers)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }

        await _connecting.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_connection is { } connection)
            {
                connection.ConnectionDisconnected -= OnDisconnectedAsync;
                connection.ConnectionOpened -= OnOpenedAsync;
                try
                {
                    // A round trip flushes what was written before it (the last acknowledgements), so closing loses none.
                    using var flush = new CancellationTokenSource(TimeSpan.FromSeconds(2), Time);
                    await connection.PingAsync(flush.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException)
                {
                    // the server is away: nothing more can be flushed
                }

                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connecting.Release();
        }
    }
}
