using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Herald.Nats;

/// <summary>
/// Dead letters in JetStream: the dead-letter stream (<see cref="NatsOptions.Stream"/> + <c>_DEAD_LETTERS</c>) holds
/// each as a message on <c>{prefix}-dead-letter.{group}</c>: the envelope in CloudEvents binary mode (or the poison's
/// bytes as they came), the reason in <c>Herald-*</c> headers. Listing reads the stream with an ordered consumer (nothing
/// is taken out or redelivered by looking); removing deletes the one message. Meant for operators' volumes of dead
/// letters, not for millions.
/// </summary>
/// <param name="transport">The transport whose connection reads the stream.</param>
/// <param name="groupOf">The group of a consumer (handler) name, for storing.</param>
internal sealed class NatsDeadLetterStore(Func<NatsTransport> transport, Func<string, string> groupOf) : IDeadLetterStore
{
    public const string IdHeader = "Herald-Dead-Letter-Id";
    public const string TopicHeader = "Herald-Topic";
    public const string ReasonHeader = "Herald-Reason";
    public const string ExceptionHeader = "Herald-Exception";
    public const string MessageHeader = "Herald-Message";
    public const string ConsumerHeader = "Herald-Consumer";
    public const string AttemptsHeader = "Herald-Attempts";
    public const string TimeHeader = "Herald-Time";

    /// <summary>The store of a host: its handlers' groups.</summary>
    public NatsDeadLetterStore(IServiceProvider services)
        : this(
            () => (NatsTransport)services.GetRequiredService<EventBus>().Transport,
            consumer => services.GetRequiredService<HandlerCatalog>().Handlers.FirstOrDefault(h => h.Descriptor.Name == consumer)?.Descriptor.Group ?? consumer)
    {
    }

    private NatsTransport Transport => transport();

    /// <summary>The subject of a group's dead letters.</summary>
    public static string Subject(NatsOptions options, string group) => $"{options.DeadLetterPrefix}.{NatsSubjects.ConsumerName(group, 0)}";

    /// <summary>Writes why a message is a dead letter into its headers (values percent-encoded: headers are ASCII).</summary>
    public static void Describe(NatsHeaders headers, string id, string topic, string reason, string? exceptionType, string? exceptionMessage, string consumer, int attempts, DateTimeOffset time)
    {
        headers[IdHeader] = id;
        headers[TopicHeader] = NatsCloudEvents.Escape(topic);
        headers[ReasonHeader] = NatsCloudEvents.Escape(reason);
        if (exceptionType is not null)
        {
            headers[ExceptionHeader] = NatsCloudEvents.Escape(exceptionType);
        }

        if (!string.IsNullOrEmpty(exceptionMessage))
        {
            headers[MessageHeader] = NatsCloudEvents.Escape(exceptionMessage);
        }

        headers[ConsumerHeader] = NatsCloudEvents.Escape(consumer);
        headers[AttemptsHeader] = attempts.ToString(CultureInfo.InvariantCulture);
        headers[TimeHeader] = time.ToString("O", CultureInfo.InvariantCulture);
    }

    public async ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        NatsJSContext js = await Transport.ConnectAsync(cancellationToken).ConfigureAwait(false);
        (NatsHeaders headers, ReadOnlyMemory<byte> body) = NatsCloudEvents.Encode(deadLetter.Envelope, Transport.Options.Serializer);
        Describe(headers, deadLetter.Id, deadLetter.Envelope.Type, deadLetter.Reason, deadLetter.ExceptionType, deadLetter.ExceptionMessage, deadLetter.Consumer, deadLetter.Attempts, deadLetter.Time);
        await Transport.PublishStoredAsync(js, Subject(Transport.Options, groupOf(deadLetter.Consumer)), headers, body, deadLetter.Id, $"the dead letter {deadLetter.Id}", cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<DeadLetter>> ListAsync(TopicPattern? topic, int max, CancellationToken cancellationToken)
    {
        var found = new List<DeadLetter>();
        await foreach (Stored stored in ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (found.Count >= max)
            {
                break;
            }

            if (topic is null || topic.IsMatch(stored.Letter.Envelope.Type))
            {
                found.Add(stored.Letter);
            }
        }

        return found;
    }

    public async ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await FindAsync(id, cancellationToken).ConfigureAwait(false))?.Letter;

    /// <summary>A dead letter with where it is stored, or null.</summary>
    public async ValueTask<Stored?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await foreach (Stored stored in ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (stored.Letter.Id == id)
            {
                return stored;
            }
        }

        return null;
    }

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        NatsJSContext js = await Transport.ConnectAsync(cancellationToken).ConfigureAwait(false);
        INatsJSStream stream = await js.GetStreamAsync(Transport.Options.DeadLetterStream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return stream.Info.State.Messages;
    }

    public async ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            return false;
        }

        NatsJSContext js = await Transport.ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            StreamMsgDeleteResponse deleted = await js.DeleteMessageAsync(Transport.Options.DeadLetterStream, new StreamMsgDeleteRequest { Seq = stored.Sequence }, cancellationToken).ConfigureAwait(false);
            return deleted.Success;
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10037)
        {
            return false; // removed by someone else meanwhile
        }
    }

    /// <summary>Every dead letter in the stream, oldest first, read by an ordered consumer (nothing is acknowledged or moved).</summary>
    public async IAsyncEnumerable<Stored> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        NatsJSContext js = await Transport.ConnectAsync(cancellationToken).ConfigureAwait(false);
        INatsJSStream stream = await js.GetStreamAsync(Transport.Options.DeadLetterStream, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong last = stream.Info.State.LastSeq;
        if (stream.Info.State.Messages == 0)
        {
            yield break;
        }

        INatsJSConsumer reader = await js.CreateOrderedConsumerAsync(Transport.Options.DeadLetterStream, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong seen = 0;
        while (seen < last)
        {
            int batch = 0;
            await foreach (INatsJSMsg<ReadOnlyMemory<byte>> message in reader.FetchAsync(new NatsJSFetchOpts { MaxMsgs = 256, Expires = TimeSpan.FromSeconds(2) }, NatsRawSerializer<ReadOnlyMemory<byte>>.Default, cancellationToken).ConfigureAwait(false))
            {
                batch++;
                seen = message.Metadata?.Sequence.Stream ?? last;
                yield return new Stored(Read(message), seen, message.Subject);
                if (seen >= last)
                {
                    break;
                }
            }

            if (batch == 0)
            {
                yield break; // the rest was deleted meanwhile
            }
        }
    }

    private DeadLetter Read(INatsJSMsg<ReadOnlyMemory<byte>> message)
    {
        NatsHeaders? headers = message.Headers;
        string? Header(string name) => headers is not null && headers.TryGetValue(name, out var value) && value.Count > 0
            ? NatsCloudEvents.Unescape(value.ToString(), name)
            : null;

        Envelope envelope;
        try
        {
            envelope = NatsCloudEvents.Decode(headers, message.Data, Transport.Time.GetUtcNow());
        }
        catch (EventDecodingException ex)
        {
            // Not a CloudEvent (that is why it is here): keep its bytes as the payload, under the topic it came with.
            envelope = Envelope.Undecodable(Header(TopicHeader), message.Data.ToArray(), Transport.Time.GetUtcNow(), ex.Message);
        }

        return new DeadLetter(
            Header(IdHeader) ?? envelope.Id,
            envelope,
            Header(ConsumerHeader) ?? "unknown",
            Header(ReasonHeader) ?? "failed",
            Header(ExceptionHeader),
            Header(MessageHeader),
            int.TryParse(Header(AttemptsHeader), CultureInfo.InvariantCulture, out int attempts) ? attempts : 1,
            DateTimeOffset.TryParse(Header(TimeHeader), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset time) ? time : envelope.Time);
    }

    /// <summary>A dead letter, its sequence in the stream and its subject (<c>{prefix}-dead-letter.{group}</c>).</summary>
    public sealed record Stored(DeadLetter Letter, ulong Sequence, string Subject)
    {
        /// <summary>The group token of the subject (the consumer group's JetStream name).</summary>
        public string GroupToken => Subject[(Subject.LastIndexOf('.') + 1)..];
    }
}
