namespace Herald;

/// <summary>
/// What every event store does with what it read back: an envelope stored as a structured CloudEvent, a payload read as
/// the caller's type, a snapshot's state; each failure names the event or stream it came from.
/// </summary>
internal static class StoredEvents
{
    /// <summary>The recorded event of a stored row.</summary>
    /// <exception cref="EventDecodingException">The stored bytes are not a CloudEvent Herald can read; the message names the event.</exception>
    public static RecordedEvent Read(string streamId, long version, long position, ReadOnlySpan<byte> envelope)
    {
        try
        {
            return new RecordedEvent(streamId, version, position, CloudEventJsonFormatter.Decode(envelope));
        }
        catch (EventDecodingException ex)
        {
            throw new EventDecodingException($"The stored event {streamId} v{version} (position {position}) cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>The payload of <paramref name="recordedEvent"/> as <typeparamref name="TEvent"/>.</summary>
    /// <exception cref="EventDecodingException">The payload cannot be read as <typeparamref name="TEvent"/>.</exception>
    public static TEvent Decode<TEvent>(CloudEventJsonFormatter formatter, RecordedEvent recordedEvent)
    {
        ArgumentNullException.ThrowIfNull(recordedEvent);
        object? value = formatter.DecodeData(recordedEvent.Envelope, typeof(TEvent));
        return value is TEvent typed
            ? typed
            : throw new EventDecodingException($"Event {recordedEvent.Envelope.Id} ({recordedEvent.StreamId} v{recordedEvent.Version}) has no payload to read as {typeof(TEvent).FullName}.");
    }

    /// <summary>
    /// A stored snapshot's state as <typeparamref name="TState"/>: saved at <paramref name="stateVersion"/> (see
    /// <see cref="EventUpcasters.RegisterSnapshot{TOld, TNew}"/>), decoded as that version's type and upcast; null when
    /// it was saved by a newer release, whose state this code cannot read (the aggregate is then loaded from its events).
    /// </summary>
    /// <exception cref="EventDecodingException">The state cannot be read, or an upcaster failed; the message names the stream and version.</exception>
    public static Snapshot<TState>? ReadSnapshot<TState>(IEventSerializer serializer, string streamId, long version, ReadOnlySpan<byte> state, int stateVersion)
    {
        if (stateVersion > EventUpcasters.StateVersionOf(typeof(TState)))
        {
            return null;
        }

        EventUpcasters.Plan? upcast = EventUpcasters.StatePlanFor(typeof(TState), stateVersion);
        object? value;
        try
        {
            value = serializer.Deserialize(state, upcast?.DecodeAs ?? typeof(TState));
            if (upcast is not null && value is not null)
            {
                value = upcast.Apply(new Envelope("snapshot.state", null, default) { Id = $"snapshot-{streamId}-{version}" }, value);
            }
        }
        catch (EventDecodingException ex)
        {
            throw new EventDecodingException($"The snapshot of stream '{streamId}' (version {version}, state version {stateVersion}) cannot be read as {typeof(TState).FullName}: {ex.Message}", ex);
        }

        return new Snapshot<TState>(streamId, version, (TState)value!);
    }

    /// <summary>The version a snapshot of <typeparamref name="TState"/> is saved at.</summary>
    public static int StateVersion<TState>() => EventUpcasters.StateVersionOf(typeof(TState));
}
