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
/// a long handler. Poison goes to the dead-letter stream before it is acknowledged.
/// </summary>
internal sealed class NatsConsumer : LaneConsumer, IRedeliveryScheduler, IConsumerBacklog
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan NakTimeout = TimeSpan.FromSeconds(1);

    private readonly NatsTransport _transport;
    private readonly NatsJSContext _js;
    private readonly bool _approximate;
    private readonly string _groupToken;
    private readonly CloudEventJsonFormatter _payloads;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Outstanding> _outstanding = new();
    private readonly ConcurrentDictionary<string, TimeSpan> _retries = new(StringComparer.Ordinal);
    private readonly List<(string Name, string Filter)> _durables = [];
    private readonly List<Task> _loops = [];
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
        var started = new List<INatsJSConsumer>();
        foreach ((string name, string filter) in consumer._durables)
        {
            started.Add(await consumer.CreateAsync(name, filter, cancellationToken).ConfigureAwait(false));
        }

        for (int i = 0; i < started.Count; i++)
        {
            (string name, string filter) = consumer._durables[i];
            INatsJSConsumer first = started[i];
            consumer._loops.Add(Task.Run(() => consumer.ConsumeLoopAsync(name, filter, first), CancellationToken.None));
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

    /// <summary>Consumes one durable consumer into the lanes until the consumer stops; a failure (the consumer deleted, the server away) starts it again.</summary>
    private async Task ConsumeLoopAsync(string name, string filter, INatsJSConsumer consumer)
    {
        CancellationToken stop = _stop.Token;
        var opts = new NatsJSConsumeOpts
        {
            MaxMsgs = Prefetch(Spec),
            Expires = TimeSpan.FromSeconds(30),
            IdleHeartbeat = TimeSpan.FromSeconds(5),
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
                await foreach (INatsJSMsg<ReadOnlyMemory<byte>> message in consumer.ConsumeAsync(NatsRawSerializer<ReadOnlyMemory<byte>>.Default, opts, stop).ConfigureAwait(false))
                {
                    await OnMessageAsync(message).ConfigureAwait(false);
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

    private async Task OnMessageAsync(INatsJSMsg<ReadOnlyMemory<byte>> message)
    {
        if (_stop.IsCancellationRequested)
        {
            await NakAsync(message, null).ConfigureAwait(false); // read as the consumer stops: straight back to the stream
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
                envelope = envelope.WithData(_payloads.DecodeData(envelope, known));
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
            await Lanes.WriteAsync(envelope, tag, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            // stopping: put back at once (DisposeAsync puts back whatever is still outstanding)
            if (_outstanding.TryRemove(tag, out Outstanding left))
            {
                await NakAsync(left.Message, null).ConfigureAwait(false);
            }
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
        try
        {
            // Written, not confirmed: the transport pings before it closes the connection, which flushes it. Bounded
            // so that a stop with the server away does not wait the client's write timeout per delivery.
            using var timeout = new CancellationTokenSource(NakTimeout, _transport.Time);
            await message.NakAsync(new AckOpts { NakDelay = delay }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is down: the server delivers it again after AckWait.
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
        NatsDeadLetterStore.Describe(headers, Guid.CreateVersion7().ToString(), topic, "poison", reason.GetType().FullName, reason.Message, Name, (int)(message.Metadata?.NumDelivered ?? 1), _transport.Time.GetUtcNow());
        try
        {
            await _transport.PublishStoredAsync(_js, NatsDeadLetterStore.Subject(_transport.Options, Spec.GroupName), headers, message.Data, messageId: null, $"a poison message on '{message.Subject}'", _stop.Token).ConfigureAwait(false);
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
        CancellationToken stop = _stop.Token;
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
        CancellationToken stop = _stop.Token;
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
        try
        {
            // Bounded: a loop in the client that does not end (the server away) must not hold the stop.
#pragma warning disable VSTHRD003 // this consumer's own loops, started in StartAsync
            await Task.WhenAll(_loops).WaitAsync(StopTimeout, _transport.Time).ConfigureAwait(false);
#pragma warning restore VSTHRD003
        }
        catch (TimeoutException)
        {
            NatsLog.StopTimedOut(_transport.Logger, Name, StopTimeout);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            NatsLog.ConsumeFailed(_transport.Logger, ex, Name, "(stopping)", TimeSpan.Zero); // a loop that failed must not fail the stop
        }
        Lanes.Complete();
        _transport.Forget(this);

        // What was read and not settled goes back at once (not after AckWait): the next member or start has it. All
        // together, each bounded: a stop with the server away takes a second here, not one per delivery.
        var putBack = new List<Task>();
        foreach (long tag in _outstanding.Keys)
        {
            if (_outstanding.TryRemove(tag, out Outstanding left))
            {
                putBack.Add(NakAsync(left.Message, null).AsTask());
            }
        }

        await Task.WhenAll(putBack).ConfigureAwait(false);

        _stop.Dispose();
    }

    public override string ToString() => $"{Name} ({Spec.Pattern}, JetStream consumer {_groupToken} on {_transport.Options.Stream})";

    private readonly record struct Outstanding(INatsJSMsg<ReadOnlyMemory<byte>> Message, long Since);

}
