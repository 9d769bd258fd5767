namespace Herald;

/// <summary>The rest of the pipeline, as a middleware sees it: call it to go on, or do not to stop here.</summary>
/// <param name="context">The delivery.</param>
public delegate ValueTask DeliveryDelegate(DeliveryContext context);
