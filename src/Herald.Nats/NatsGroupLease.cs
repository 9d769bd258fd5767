using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Herald.Nats;

/// <summary>
/// The lease that makes one member of an ordered group the active one (what RabbitMQ's single active consumer does,
/// and what NATS 2.9 lacks for pull consumers): a key in the key-value bucket <c>{Stream}_LEASES</c>, created by the
/// member that takes it (a create fails while another holds it), renewed with its revision (a renewal fails once
/// another took it), deleted at a stop. A holder that dies stops renewing and the bucket's age limit removes the key
/// after <see cref="Ttl"/>: twice <c>AckWait</c>, so that by the time another member takes over, the server has made
/// the dead member's unacknowledged deliveries due again, and delivers them (in stream order) before newer events.
/// </summary>
internal sealed class NatsGroupLease
{
    private readonly INatsKVStore _store;
    private ulong _revision;

    private NatsGroupLease(INatsKVStore store, string key, string holder, TimeSpan ttl)
    {
        _store = store;
        Key = key;
        Holder = holder;
        Ttl = ttl;
    }

    /// <summary>The key of the group in the bucket.</summary>
    public string Key { get; }

    /// <summary>Who this member is, as the key's value says while it holds the lease (machine, process, a unique part).</summary>
    public string Holder { get; }

    /// <summary>The bucket's name.</summary>
    public string Bucket => _store.Bucket;

    /// <summary>How long a lease lasts without a renewal (the bucket's age limit).</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Whether this member holds the lease (as of its last create or renewal).</summary>
    public bool Held => Volatile.Read(ref _revision) != 0;

    /// <summary>The bucket of <paramref name="options"/>' stream.</summary>
    public static string BucketOf(NatsOptions options) => options.Stream + "_LEASES";

    /// <summary>The lease's length for <paramref name="options"/>: twice AckWait.</summary>
    public static TimeSpan TtlOf(NatsOptions options) => options.AckWait * 2;

    /// <summary>Opens the group's lease, creating the bucket when missing.</summary>
    /// <exception cref="InvalidOperationException">The bucket exists with an age limit too short for this AckWait (a takeover could come before the dead member's deliveries are due again).</exception>
    public static async Task<NatsGroupLease> OpenAsync(NatsJSContext js, NatsOptions options, string key, CancellationToken cancellationToken)
    {
        var kv = new NatsKVContext(js);
        string bucket = BucketOf(options);
        if (!NatsSubjects.IsToken(bucket))
        {
            throw new InvalidOperationException($"An ordered group on stream '{options.Stream}' needs the key-value bucket '{bucket}', which is not a valid bucket name (letters, digits, '-' and '_'): choose a stream name of those.");
        }

        INatsKVStore store;
        try
        {
            store = await kv.GetStoreAsync(bucket, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            try
            {
                store = await kv.CreateStoreAsync(new NatsKVConfig(bucket)
                {
                    MaxAge = TtlOf(options),
                    History = 1,
                    Storage = NatsKVStorageType.File,
                    Description = $"Herald: which member of each ordered consumer group on stream {options.Stream} is active",
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException)
            {
                store = await kv.GetStoreAsync(bucket, cancellationToken).ConfigureAwait(false); // another member made it meanwhile
            }
        }

        NatsKVStatus status = await store.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        TimeSpan ttl = status.Info.Config.MaxAge;
        if (ttl < options.AckWait * 1.5)
        {
            throw new InvalidOperationException(
                $"The lease bucket '{bucket}' keeps a lease {ttl.TotalSeconds:0.#} s, shorter than 1.5 x AckWait ({options.AckWait.TotalSeconds:0.#} s): a member could take over an ordered "
                + $"group before the deliveries of a member that died are due again, and handle newer events first. Delete the bucket (it is made again with {TtlOf(options).TotalSeconds:0.#} s) "
                + "or give every member of the stream the same AckWait.");
        }

        return new NatsGroupLease(store, key, $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}", ttl);
    }

    /// <summary>
    /// Whether the lease last taken was given up by its holder (deleted after it put back what it held), rather than
    /// run out (its holder died or hung) or never held: only then are the former holder's deliveries sure to be back.
    /// </summary>
    public bool TakenFromRelease { get; private set; }

    /// <summary>Takes the lease when no other member holds it; false when one does.</summary>
    public async ValueTask<bool> TryAcquireAsync(CancellationToken cancellationToken)
    {
        bool released = false;
        try
        {
            await _store.GetEntryAsync<string>(Key, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsKVKeyDeletedException)
        {
            released = true; // a holder deleted it: given up at a stop
        }
        catch (NatsKVKeyNotFoundException)
        {
            // run out (its age limit), or never taken
        }

        NatsResult<ulong> created = await _store.TryCreateAsync(Key, Holder, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!created.Success)
        {
            return await AdoptAsync(cancellationToken).ConfigureAwait(false); // ours already, when an earlier answer was lost
        }

        TakenFromRelease = released;
        Volatile.Write(ref _revision, created.Value);
        return true;
    }

    /// <summary>Renews the lease; false when another member took it meanwhile (it was not renewed in time).</summary>
    public async ValueTask<bool> RenewAsync(CancellationToken cancellationToken)
    {
        NatsResult<ulong> updated = await _store.TryUpdateAsync(Key, Holder, Volatile.Read(ref _revision), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!updated.Success)
        {
            if (updated.Error is NatsKVWrongLastRevisionException)
            {
                // Taken by another, or renewed by this member with an answer that was lost: the key's value says which.
                if (await AdoptAsync(cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }

                Volatile.Write(ref _revision, 0);
                return false;
            }

            throw updated.Error;
        }

        Volatile.Write(ref _revision, updated.Value);
        return true;
    }

    /// <summary>Takes the key's revision when its value is this member (a create or renewal applied whose answer was lost).</summary>
    private async ValueTask<bool> AdoptAsync(CancellationToken cancellationToken)
    {
        NatsResult<NatsKVEntry<string>> entry = await _store.TryGetEntryAsync<string>(Key, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (entry.Success && entry.Value.Operation == NatsKVOperation.Put && entry.Value.Value == Holder)
        {
            Volatile.Write(ref _revision, entry.Value.Revision);
            return true;
        }

        return false;
    }

    /// <summary>Gives the lease up (when still held), so a standby takes over at once instead of after <see cref="Ttl"/>.</summary>
    public async ValueTask ReleaseAsync(CancellationToken cancellationToken)
    {
        ulong revision = Interlocked.Exchange(ref _revision, 0);
        if (revision != 0)
        {
            await _store.TryDeleteAsync(Key, new NatsKVDeleteOpts { Revision = revision }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Forgets the lease without touching the bucket (it was lost).</summary>
    public void Forget() => Volatile.Write(ref _revision, 0);
}
