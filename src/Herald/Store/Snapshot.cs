namespace Herald;

/// <summary>The state of a stream's aggregate as of one version, so loading it need not replay every event.</summary>
/// <typeparam name="TState">The state's type.</typeparam>
/// <param name="StreamId">The stream.</param>
/// <param name="Version">The last event version the state includes.</param>
/// <param name="State">The state.</param>
public sealed record Snapshot<TState>(string StreamId, long Version, TState State);
