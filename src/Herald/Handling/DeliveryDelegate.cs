namespace Herald;

/// <summary>
/// The rest of the pipeline, as a middleware sees it: call it to go on, or do not to stop here. It never throws: a
/// failure inside comes back as a faulted task, and a task that has completed successfully may be returned as it is.
/// </summary>
/// <param name="context">The delivery.</param>
public delegate ValueTask DeliveryDelegate(DeliveryContext context);
