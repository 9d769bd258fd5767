using System.Collections.Concurrent;
using Herald.Transport;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Herald.Nats;

/// <summary>
/// A member of a consumer group on JetStream: a durable pull consumer per filter of the group's pattern (and one for
/// the group's redrives), consumed into the local lanes; each delivery is acknowledged after the pipeline, put back
/// with <c>-NAK</c>, or put back later with <c>-NAK {delay}</c> for a retry (stored by the server: it survives
/// restarts). Deliveries still being handled report progress (<c>+WPI</c>) so the server does not redeliver them under
/// a long handler. Poison goes to the dead-letter stream before it is acknowledged. A member of a group ordered by key
/// consumes only while it holds the group's lease (<see cref="NatsGroupLease"/>): one member is active, the others
/// wait as standbys, so a key's events are handled in stream order by one process at a time.
/// </summary>
internal sealed class NatsConsumer : LaneConsumer, IRedeliveryScheduler, IConsumerBacklog
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan NakTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PutBackTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AcquireInterval = TimeSpan.FromSeconds(1);

    private readonly NatsTransport _transport;
    private readonly NatsJSContext _js;
    private readonly bool _approximate;
    private readonly string _groupToken;
    private readonly CloudEventJsonFormatter _payloads;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<long, Outstanding> _outstanding = new();
    private readonly ConcurrentDictionary<string, TimeSpan> _retries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<INatsJSMsg<ReadOnlyMemory<byte>>> _drained = new();
    private readonly ConcurrentDictionary<string, ulong> _lastSeen = new(StringComparer.Ordinal);
    private readonly List<(string Name, string Filter)> _durables = [];
    private readonly List<Task> _loops = [];
    private readonly SemaphoreSlim _putBack = new(1, 1);
    private Session? _session;
    private NatsGroupLease? _lease;
    private long _tags;
    private long _backlog;
    private int _disposed;

    private NatsConsumer(NatsTransport transport, NatsJSContext js, ConsumerSpec spec, bool approximate)
        : base(spec)
    {
        _transport = transport;
        _js = js;
        _approximate = approximate;
        _groupToken = NatsSubjects.ConsumerName(spec.GroupName, 0);
        _payloads = new CloudEventJsonFormatter(transport.Options.Serializer);
        _stopping = _stop.Token; // read once: loops that outlive a bounded stop must not touch the disposed source
    }

    /// <summary>The subject redrives of this group are published to.</summary>
    public string RedriveSubject => $"{_transport.RedrivePrefix}.{_groupToken}";

    /// <summary>Creates (or updates) the group's durable consumers and starts consuming them.</summary>
    public static async Task<NatsConsumer> StartAsync(NatsTransport transport, NatsJSContext js, ConsumerSpec spec, IReadOnlyList<string> filters, bool approximate, CancellationToken cancellationToken)
    {
        var consumer = new NatsConsumer(transport, js, spec, approximate);
        for (int i = 0; i < filters.Count; i++)
        {
            consumer._durables.Add((NatsSubjects.ConsumerName(spec.GroupName, i), filters[i]));
        }

        consumer._durables.Add((consumer._groupToken + "__redrive", consumer.RedriveSubject));
        // Made before any member consumes (a standby too): the group's events are kept from now on.
        var started = new List<INatsJSConsumer>();
        foreach ((string name, string filter) in consumer._durables)
        {
            started.Add(await consumer.CreateAsync(name, filter, cancellationToken).ConfigureAwait(false));
        }

        if (spec.Ordered)
        {
            consumer._lease = await NatsGroupLease.OpenAsync(js, transport.Options, consumer._groupToken, cancellationToken).ConfigureAwait(false);
            consumer._loops.Add(Task.Run(consumer.LeaseLoopAsync, CancellationToken.None));
        }
        else
        {
            consumer._session = consumer.Begin(started);
        }

        consumer._loops.Add(Task.Run(consumer.ProgressLoopAsync, CancellationToken.None));
        consumer._loops.Add(Task.Run(consumer.ProbeLoopAsync, CancellationToken.None));
        return consumer;
    }

    /// <summary>
    /// How many messages one member pulls at a time (the client's buffer): 64, or ten per delivery loop when more, never
    /// more than the lanes hold. Pulls are round trips: smaller batches left the consumer waiting on the server (a
    /// window of 16, RabbitMQ's prefetch, ran at 0.6x the raw client; 64 at 0.9x).
    /// </summary>
    internal static int Prefetch(ConsumerSpec spec) => Math.Clamp(Math.Min(Math.Max(64, spec.Concurrency * 10), spec.Capacity * spec.Lanes), 1, 10_000);

    /// <summary>The group's window of delivered, unacknowledged messages (JetStream's MaxAckPending): four members' batches.</summary>
    internal static int MaxAckPending(ConsumerSpec spec) => Prefetch(spec) * 4;

    private ValueTask<INatsJSConsumer> CreateAsync(string name, string filter, CancellationToken cancellationToken) =>
        _js.CreateOrUpdateConsumerAsync(_transport.Options.Stream, new ConsumerConfig(name)
        {
            FilterSubject = filter,
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = _transport.Options.AckWait,
            MaxDeliver = -1, // Herald counts attempts and dead-letters with the reason
            MaxAckPending = MaxAckPending(Spec), // room for a few members of the group
            DeliverPolicy = ConsumerConfigDeliverPolicy.New, // a new group starts with the events published from now on
            Description = $"Herald consumer group '{Spec.GroupName}' ({Spec.Pattern})",
        }, cancellationToken);

    /// <summary>
    /// Starts consuming every durable of the group into the lanes (<paramref name="started"/>: the consumers as made,
    /// else they are looked up), after <paramref name="delay"/> (the lease held and renewed meanwhile).
    /// </summary>
    private Session Begin(IReadOnlyList<INatsJSConsumer>? started, TimeSpan delay = default)
    {
        var session = new Session(CancellationTokenSource.CreateLinkedTokenSource(_stopping));
        for (int i = 0; i < _durables.Count; i++)
        {
            (string name, string filter) = _durables[i];
            INatsJSConsumer? first = started?[i];
            CancellationToken stop = session.Stop.Token;
            session.Loops.Add(Task.Run(
                async () =>
                {
                    if (delay > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(delay, _transport.Time, stop).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }

                    await ConsumeLoopAsync(name, filter, first, stop).ConfigureAwait(false);
                },
                CancellationToken.None));
        }

        return session;
    }

    /// <summary>
    /// How long a member that took over a lease which ran out waits before it reads: when the group has deliveries
    /// not acknowledged (the former holder died with them), until each is due again, AckWait and half a second from
    /// now, so the server has put them back before this member's first pull and sends them first, in stream order.
    /// Without that a server slow to notice (a busy machine) sent newer events first. Nothing outstanding: no wait.
    /// </summary>
    private async Task<TimeSpan> DeadHolderWaitAsync(CancellationToken stop)
    {
        try
        {
            foreach ((_, NATS.Client.JetStream.Models.ConsumerInfo info) in await DurablesAsync(stop).ConfigureAwait(false))
            {
                if (info.NumAckPending > 0)
                {
                    NatsLog.WaitingForDeadHolder(_transport.Logger, Name, Spec.GroupName, info.NumAckPending, _transport.Options.AckWait);
                    return _transport.Options.AckWait + TimeSpan.FromMilliseconds(500);
                }
            }

            return TimeSpan.Zero;
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException)
        {
            return stop.IsCancellationRequested ? TimeSpan.Zero : _transport.Options.AckWait + TimeSpan.FromMilliseconds(500); // cannot tell: wait
        }
    }

    /// <summary>
    /// Stops consuming: the reads end (bounded), what the lanes still hold is taken back, and everything read and not
    /// settled is put back in stream order.
    /// </summary>
    /// <returns>Whether the reads ended in time (else one may still hand over a message after the put back).</returns>
    private async Task<bool> EndAsync(Session session)
    {
        await session.Stop.CancelAsync().ConfigureAwait(false);
        try
        {
            // Bounded: a loop in the client that does not end (the server away) must not hold the stop.
#pragma warning disable VSTHRD003 // this consumer's own loops, started in Begin
            await Task.WhenAll(session.Loops).WaitAsync(StopTimeout, _transport.Time).ConfigureAwait(false);
#pragma warning restore VSTHRD003
        }
        catch (TimeoutException)
        {
            NatsLog.StopTimedOut(_transport.Logger, Name, StopTimeout);
            return false; // the source stays undisposed: a read still running may look at its token
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            NatsLog.ConsumeFailed(_transport.Logger, ex, Name, "(stopping)", TimeSpan.Zero); // a loop that failed must not fail the stop
        }

        session.Stop.Dispose();
        return true;
    }

    /// <summary>Holds the group's lease while this member is its active one, consuming only then; a standby tries to take it every second.</summary>
    private async Task LeaseLoopAsync()
    {
        NatsGroupLease lease = _lease!;
        CancellationToken stop = _stopping;
        bool standby = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!await lease.TryAcquireAsync(stop).ConfigureAwait(false))
                {
                    if (!standby)
                    {
                        NatsLog.Standby(_transport.Logger, Name, Spec.GroupName, lease.Bucket, lease.Key);
                        standby = true;
                    }

                    await Task.Delay(AcquireInterval, _transport.Time, stop).ConfigureAwait(false);
                    continue;
                }

                standby = false;
                NatsLog.Active(_transport.Logger, Name, Spec.GroupName, lease.Bucket, lease.Key);
                Session session = Begin(null, lease.TakenFromRelease ? TimeSpan.Zero : await DeadHolderWaitAsync(stop).ConfigureAwait(false));
                Volatile.Write(ref _session, session);
                string why = await HoldAsync(lease, stop).ConfigureAwait(false);
                if (stop.IsCancellationRequested)
                {
                    return; // stopping: DisposeAsync puts back and gives the lease up
                }

                // Lost: stop taking deliveries before another member can take over, and put back what is held.
                NatsLog.LeaseLost(_transport.Logger, Name, Spec.GroupName, why);
                Volatile.Write(ref _session, null);
                await EndAsync(session).ConfigureAwait(false);

                // What waits in the lanes is taken back and put back; what a handler holds now settles as usual (its
                // acknowledgement still counts: the message is this member's until then).
                var waiting = new HashSet<long>();
                while (Lanes.TryReadAny(this, out Delivery taken))
                {
                    waiting.Add(taken.Tag);
                }

                await PutBackAsync(waiting).ConfigureAwait(false);
                lease.Forget();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                NatsLog.ConsumeFailed(_transport.Logger, ex, Name, $"the lease {lease.Bucket}/{lease.Key}", AcquireInterval);
                try
                {
                    await Task.Delay(AcquireInterval, _transport.Time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Renews the lease every quarter of its length until it is lost (the reason is returned) or the member stops.</summary>
    private async Task<string> HoldAsync(NatsGroupLease lease, CancellationToken stop)
    {
        long renewed = _transport.Time.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                TimeSpan left = (lease.Ttl / 2) - _transport.Time.GetElapsedTime(renewed);
                await Task.Delay(left < lease.Ttl / 4 ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : lease.Ttl / 4, _transport.Time, stop).ConfigureAwait(false);

                // A renewal that hangs (the server away) is given up at half the lease: the stop must come before another member can take over.
                TimeSpan bound = (lease.Ttl / 2) - _transport.Time.GetElapsedTime(renewed);
                if (bound <= TimeSpan.Zero)
                {
                    return $"not renewed for {_transport.Time.GetElapsedTime(renewed).TotalSeconds:0.#} s";
                }

                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
                deadline.CancelAfter(bound);
                if (!await lease.RenewAsync(deadline.Token).ConfigureAwait(false))
                {
                    return "another member holds it";
                }

                renewed = _transport.Time.GetTimestamp();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The server away (or the renewal given up at its bound): the lease runs out for the others after Ttl
                // from the last renewal. This member stops at half of that, well before another can take over.
                if (_transport.Time.GetElapsedTime(renewed) >= lease.Ttl / 2)
                {
                    return $"not renewed for {_transport.Time.GetElapsedTime(renewed).TotalSeconds:0.#} s ({ex.Message})";
                }
            }
        }

        return "stopping";
    }

    /// <summary>
    /// How long a pull request stays open at the server. An ordered group's member pulls for a quarter of its lease and
    /// 5 s at most: a member frozen (a pause, a stopped VM) with a pull open would otherwise be sent events after another
    /// took over, and a stop waits for its last pull to end before it puts back (see <see cref="PullsEndedAsync"/>).
    /// </summary>
    private TimeSpan PullExpiry => _lease is { } held ? TimeSpan.FromSeconds(Math.Clamp(held.Ttl.TotalSeconds / 4, 1, 5)) : TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits, one pull's expiry at most, until the server holds no pull request of this member's: a message put back
    /// while one is still open can be sent into it, reach nobody, and come again only after AckWait, behind the
    /// messages put back after it (a key's order broken for the member that takes over). A standby does not pull, so
    /// what the server counts is this member's.
    /// </summary>
    private async Task PullsEndedAsync()
    {
        long started = _transport.Time.GetTimestamp();
        TimeSpan bound = PullExpiry + TimeSpan.FromMilliseconds(500);
        while (_transport.Time.GetElapsedTime(started) < bound)
        {
            int waiting;
            try
            {
                waiting = (await DurablesAsync().ConfigureAwait(false)).Sum(d => d.Info.NumWaiting);
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
                return; // cannot tell (the server away): the put back is bounded on its own
            }

            if (waiting == 0)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _transport.Time).ConfigureAwait(false);
        }
    }

    /// <summary>Consumes one durable consumer into the lanes until the session stops; a failure (the consumer deleted, the server away) starts it again.</summary>
    private async Task ConsumeLoopAsync(string name, string filter, INatsJSConsumer? consumer, CancellationToken stop)
    {
        TimeSpan expires = PullExpiry;
        var opts = new NatsJSConsumeOpts
        {
            MaxMsgs = Prefetch(Spec),
            Expires = expires,
            IdleHeartbeat = TimeSpan.FromSeconds(Math.Max(0.5, expires.TotalSeconds / 6)), // the server refuses a heartbeat over half the expiry; the client takes 0.5 s at least
            MaxConsecutive503Errors = -1,

            // What the client holds at a stop is handed over and put back at once (a redelivery of a delivery released
            // as the stop began would otherwise wait AckWait). The client's drain has no bound of its own: the stop
            // bounds it (StopTimeout).
            DrainOnCancel = true,
        };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                consumer ??= await CreateAsync(name, filter, stop).ConfigureAwait(false);
                await foreach (INatsJSMsg<ReadOnlyMemory<byte>> message in consumer.ConsumeAsync(NatsRawSerializer<ReadOnlyMemory<byte>>.Default, opts, stop).ConfigureAwait(false))
                {
                    await OnMessageAsync(message, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever it was, the loop starts again: a member that silently stopped reading would look healthy.
                NatsLog.ConsumeFailed(_transport.Logger, ex, Name, filter, RestartDelay);
            }

            try
            {
                await Task.Delay(RestartDelay, _transport.Time, stop).ConfigureAwait(false);
                consumer = await CreateAsync(name, filter, stop).ConfigureAwait(false); // deleted meanwhile: made again
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever it was, the loop starts again: a member that silently stopped reading would look healthy.
                NatsLog.ConsumeFailed(_transport.Logger, ex, Name, filter, RestartDelay);
            }
        }
    }

    private async Task OnMessageAsync(INatsJSMsg<ReadOnlyMemory<byte>> message, CancellationToken stop)
    {
        if (message.Metadata is { } metadata)
        {
            _lastSeen.AddOrUpdate(metadata.Consumer, metadata.Sequence.Consumer, (_, seen) => Math.Max(seen, metadata.Sequence.Consumer));
        }

        if (stop.IsCancellationRequested || _lease is { Held: false })
        {
            _drained.Enqueue(message); // read as consuming stops (or the lease is gone): put back with the rest, in stream order
            return;
        }

        Envelope envelope;
        try
        {
            envelope = NatsCloudEvents.Decode(message.Headers, message.Data, _transport.Time.GetUtcNow());
            if (_approximate && !Spec.Pattern.IsMatch(envelope.Type))
            {
                await AckAsync(message).ConfigureAwait(false); // the filter took more than the pattern matches (a '#' before the end)
                return;
            }

            // Each delivery the server makes is an attempt: the ones it made before this one add to the attempt the event carries.
            int deliveries = (int)Math.Min(int.MaxValue / 2, message.Metadata?.NumDelivered ?? 1);
            if (deliveries > 1)
            {
                envelope = envelope.WithAttempt(envelope.Attempt + deliveries - 1);
            }

            if (Spec.EventType is { } type && type != typeof(object))
            {
                envelope = envelope.WithData(_payloads.DecodeData(envelope, type));
            }
            else if (Topic.TryGetType(envelope.Type, out Type? known))
            {
                envelope = envelope.WithData(_payloads.DecodeUntyped(envelope, known));
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Poison of any kind (not a CloudEvent, a malformed attribute, a payload its type refuses): dead-lettered
            // with its reason, so it never sits unacknowledged and the consumer carries on.
            await DeadLetterAsync(message, ex).ConfigureAwait(false);
            return;
        }

        long tag = Interlocked.Increment(ref _tags);
        _outstanding[tag] = new Outstanding(message, _transport.Time.GetTimestamp());
        try
        {
            await Lanes.WriteAsync(envelope, tag, stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            // stopping: still outstanding, put back with the rest in stream order
        }
    }

    /// <summary>A redrive goes to this group alone: its own subject, consumed by its own redrive consumer.</summary>
    public override async ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        (NatsHeaders headers, ReadOnlyMemory<byte> body) = NatsCloudEvents.Encode(envelope, _transport.Options.Serializer);
        await _transport.PublishStoredAsync(_js, RedriveSubject, headers, body, messageId: null, $"the redrive of {envelope.Id} ('{envelope.Type}')", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A retry through the server: the delivery it retries is put back with <c>-NAK {delay}</c> instead of being
    /// acknowledged (the server keeps the delay across restarts), and comes back as the next attempt.
    /// </summary>
    public ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken)
    {
        TimeSpan delay = due - _transport.Time.GetUtcNow();
        _retries[envelope.Id] = delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        return ValueTask.CompletedTask;
    }

    public override async ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken)
    {
        if (!_outstanding.TryRemove(delivery.Tag, out Outstanding outstanding))
        {
            return; // put back at a stop already
        }

        if (kind == SettleKind.Ack)
        {
            if (_retries.TryRemove(delivery.Envelope.Id, out TimeSpan delay))
            {
                await NakAsync(outstanding.Message, delay).ConfigureAwait(false);
            }
            else
            {
                await AckAsync(outstanding.Message).ConfigureAwait(false);
            }
        }
        else
        {
            // Requeue and release alike go back to the stream: the server delivers them again (here or to another member).
            await NakAsync(outstanding.Message, null).ConfigureAwait(false);
        }
    }

    private async ValueTask AckAsync(INatsJSMsg<ReadOnlyMemory<byte>> message)
    {
        try
        {
            await message.AckAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is down: the server delivers it again after AckWait, and the inbox skips it if handled.
        }
    }

    private async ValueTask NakAsync(INatsJSMsg<ReadOnlyMemory<byte>> message, TimeSpan? delay)
    {
        // Bounded so that a settle with the server away does not wait the client's write timeout.
        using var timeout = new CancellationTokenSource(NakTimeout, _transport.Time);
        await NakAsync(message, delay, timeout.Token).ConfigureAwait(false);
    }

    private static async ValueTask NakAsync(INatsJSMsg<ReadOnlyMemory<byte>> message, TimeSpan? delay, CancellationToken cancellationToken)
    {
        try
        {
            // Written, not confirmed: a ping (the put back's, the transport's before it closes) flushes it.
            await message.NakAsync(new AckOpts { NakDelay = delay }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is down: the server delivers it again after AckWait.
        }
    }

    /// <summary>
    /// Puts back what was read and not settled (outstanding, and read as consuming stopped) in stream order, one
    /// after another on the connection, so the server redelivers them in that order (a key's events stay in order for
    /// the member that takes over); then a ping makes sure the server has them. Bounded as a whole: with the server
    /// away it takes two seconds, and what is left comes again after AckWait.
    /// </summary>
    /// <param name="only">The deliveries to put back; null for every one still outstanding.</param>
    /// <returns>Whether every one was written and the server confirmed it had them (a ping answered).</returns>
    private async Task<bool> PutBackAsync(IReadOnlySet<long>? only = null)
    {
        await _putBack.WaitAsync().ConfigureAwait(false);
        try
        {
            var held = new List<INatsJSMsg<ReadOnlyMemory<byte>>>();
            foreach (long tag in _outstanding.Keys)
            {
                if ((only is null || only.Contains(tag)) && _outstanding.TryRemove(tag, out Outstanding left))
                {
                    held.Add(left.Message);
                }
            }

            while (_drained.TryDequeue(out INatsJSMsg<ReadOnlyMemory<byte>>? message))
            {
                held.Add(message);
            }

            if (held.Count == 0)
            {
                return true;
            }

            held.Sort((a, b) => (a.Metadata?.Sequence.Stream ?? 0).CompareTo(b.Metadata?.Sequence.Stream ?? 0));
            using var timeout = new CancellationTokenSource(PutBackTimeout, _transport.Time);
            foreach (INatsJSMsg<ReadOnlyMemory<byte>> message in held)
            {
                await NakAsync(message, null, timeout.Token).ConfigureAwait(false);
            }

            try
            {
                await _js.Connection.PingAsync(timeout.Token).ConfigureAwait(false);
                return !timeout.IsCancellationRequested;
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
                return false; // the server is away: what was not flushed comes again after AckWait
            }
        }
        finally
        {
            _putBack.Release();
        }
    }

    /// <summary>
    /// Poison to the group's dead-letter subject with the reason, acknowledged only once JetStream stored the dead
    /// letter; when that fails it is put back to be tried again, never lost between the two.
    /// </summary>
    private async Task DeadLetterAsync(INatsJSMsg<ReadOnlyMemory<byte>> message, Exception reason)
    {
        var headers = new NatsHeaders();
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in message.Headers ?? [])
        {
            // Not the server's Nats-* headers (an expected-stream or expected-sequence header would make the dead
            // letter's own publish refused).
            if (!header.Key.StartsWith("Nats-", StringComparison.OrdinalIgnoreCase))
            {
                headers[header.Key] = header.Value;
            }
        }

        string topic = NatsSubjects.TopicOf(_transport.Options.SubjectPrefix, message.Subject) ?? message.Subject;
        string deadLetterId = Guid.CreateVersion7().ToString();
        NatsDeadLetterStore.Describe(headers, deadLetterId, topic, "poison", reason.GetType().FullName, reason.Message, Name, (int)(message.Metadata?.NumDelivered ?? 1), _transport.Time.GetUtcNow());
        try
        {
            await _transport.PublishStoredAsync(_js, NatsDeadLetterStore.Subject(_transport.Options, Spec.GroupName), headers, message.Data, messageId: deadLetterId, $"a poison message on '{message.Subject}'", _stopping).ConfigureAwait(false);
        }
        catch (NatsPublishException ex) when (ex.ErrorCode is not null && ex.ErrorCode != 10077)
        {
            // Refused for good (too large, a header the stream refuses): trying again would loop forever. The server
            // keeps the message in the events' stream (+TERM ends its deliveries); the log names it.
            NatsLog.PoisonNotDeadLettered(_transport.Logger, ex, Name, message.Subject);
            try
            {
                await message.AckTerminateAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception terminate) when (terminate is NatsException or ObjectDisposedException or OperationCanceledException)
            {
                // the connection is down: it comes again, and is refused again
            }

            return;
        }
        catch (Exception ex) when (ex is NatsPublishException or OperationCanceledException)
        {
            NatsLog.PoisonNotDeadLettered(_transport.Logger, ex, Name, message.Subject);
            await NakAsync(message, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return;
        }

        NatsLog.PoisonDeadLettered(_transport.Logger, Name, message.Subject, reason.Message);
        await AckAsync(message).ConfigureAwait(false);
    }

    /// <summary>Reports progress (<c>+WPI</c>) for deliveries held longer than a third of AckWait, so a long handler or a retry waiting in its loop is not redelivered meanwhile.</summary>
    private async Task ProgressLoopAsync()
    {
        CancellationToken stop = _stopping;
        TimeSpan every = _transport.Options.AckWait / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, _transport.Time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            long now = _transport.Time.GetTimestamp();
            foreach (KeyValuePair<long, Outstanding> entry in _outstanding)
            {
                if (_transport.Time.GetElapsedTime(entry.Value.Since, now) >= every)
                {
                    try
                    {
                        await entry.Value.Message.AckProgressAsync(cancellationToken: stop).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is NatsException or OperationCanceledException or ObjectDisposedException)
                    {
                        // the connection is down, or stopping: the next round tries again
                    }
                }
            }
        }
    }

    /// <summary>The group's events not yet delivered to any member (JetStream's pending count), as of the last probe (every second).</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    private async Task ProbeLoopAsync()
    {
        CancellationToken stop = _stopping;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                long pending = 0;
                foreach ((string name, _) in _durables)
                {
                    INatsJSConsumer consumer = await _js.GetConsumerAsync(_transport.Options.Stream, name, stop).ConfigureAwait(false);
                    pending += (long)consumer.Info.NumPending;
                }

                Interlocked.Exchange(ref _backlog, pending);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException or OperationCanceledException)
            {
                // the server is away: keep the last value, ask again later
            }

            try
            {
                await Task.Delay(ProbeInterval, _transport.Time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        bool loopsEnded = true;
        try
        {
            // Bounded: a loop in the client that does not end (the server away) must not hold the stop. A lease loop
            // may be putting back after a lost lease: room for its own bounded stop and put back.
#pragma warning disable VSTHRD003 // this consumer's own loops, started in StartAsync
            await Task.WhenAll(_loops).WaitAsync(StopTimeout + PutBackTimeout + TimeSpan.FromSeconds(1), _transport.Time).ConfigureAwait(false);
#pragma warning restore VSTHRD003
        }
        catch (TimeoutException)
        {
            loopsEnded = false;
            NatsLog.StopTimedOut(_transport.Logger, Name, StopTimeout + PutBackTimeout);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            NatsLog.ConsumeFailed(_transport.Logger, ex, Name, "(stopping)", TimeSpan.Zero); // a loop that failed must not fail the stop
        }

        bool readsEnded = true;
        if (Interlocked.Exchange(ref _session, null) is { } session)
        {
            readsEnded = await EndAsync(session).ConfigureAwait(false);
        }

        Lanes.Complete();
        _transport.Forget(this);

        // What was read and not settled goes back at once (not after AckWait), in stream order: the next member or
        // start has it. Only then is the lease given up, so a standby taking over gets those first; when any of that
        // did not complete (reads still running, the server away), the lease is left to run out instead, by which
        // time what was not put back is due again and comes first.
        if (_lease is { Held: true } && loopsEnded && readsEnded)
        {
            await PullsEndedAsync().ConfigureAwait(false);
        }

        bool putBack = await PutBackAsync().ConfigureAwait(false);
        if (_lease is { Held: true } lease && loopsEnded && readsEnded && putBack && await SawEveryDeliveryAsync().ConfigureAwait(false))
        {
            try
            {
                using var timeout = new CancellationTokenSource(PutBackTimeout, _transport.Time);
                await lease.ReleaseAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
                // the server is away: the lease runs out after its Ttl
            }
        }

        if (loopsEnded && readsEnded)
        {
            _stop.Dispose();
            _putBack.Dispose();
        }
    }

    /// <summary>The server's view of each of this member's durables, asked within one put back's time (and <paramref name="stop"/>).</summary>
    private async Task<List<(string Name, NATS.Client.JetStream.Models.ConsumerInfo Info)>> DurablesAsync(CancellationToken stop = default)
    {
        using var bound = new CancellationTokenSource(PutBackTimeout, _transport.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, stop);
        var infos = new List<(string Name, NATS.Client.JetStream.Models.ConsumerInfo Info)>(_durables.Count);
        foreach ((string name, _) in _durables)
        {
            INatsJSConsumer consumer = await _js.GetConsumerAsync(_transport.Options.Stream, name, timeout.Token).ConfigureAwait(false);
            infos.Add((name, consumer.Info));
        }

        return infos;
    }

    /// <summary>
    /// Whether this member received every delivery the server made to it: a message the server sent as the reads
    /// stopped is neither handled nor put back, and comes again only after AckWait. Then the lease is not given up
    /// but left to run out (twice AckWait), so that message is due again, and first, when a standby takes over.
    /// </summary>
    private async Task<bool> SawEveryDeliveryAsync()
    {
        try
        {
            foreach ((string name, NATS.Client.JetStream.Models.ConsumerInfo info) in await DurablesAsync().ConfigureAwait(false))
            {
                ulong delivered = info.Delivered?.ConsumerSeq ?? 0;
                ulong seen = _lastSeen.TryGetValue(name, out ulong last) ? last : 0;
                if (delivered > seen)
                {
                    NatsLog.LeaseKept(_transport.Logger, Name, Spec.GroupName, name, delivered - seen);
                    return false;
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException or ObjectDisposedException)
        {
            return false; // cannot tell: the lease runs out instead
        }
    }

    public override string ToString() => $"{Name} ({Spec.Pattern}, JetStream consumer {_groupToken} on {_transport.Options.Stream})";

    private readonly record struct Outstanding(INatsJSMsg<ReadOnlyMemory<byte>> Message, long Since);

    /// <summary>A period of consuming: its reads and what stops them.</summary>
    private sealed record Session(CancellationTokenSource Stop)
    {
        public List<Task> Loops { get; } = [];
    }

}
