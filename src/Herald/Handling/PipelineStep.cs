namespace Herald;

/// <summary>
/// One named step of the handler pipeline. <see cref="HeraldBuilder.Pipeline"/> lists the steps outermost first;
/// remove, reorder or insert steps there. <see cref="Create"/> runs once per consumer at startup.
/// </summary>
/// <param name="Name">The step's name: <c>tracing</c>, <c>metrics</c>, <c>logging</c>, <c>isolation</c>, <c>dead-letter</c>, <c>idempotency</c>, <c>retry</c>, <c>timeout</c>, or a user middleware's type name.</param>
/// <param name="Create">Creates the middleware from the root service provider.</param>
public sealed record PipelineStep(string Name, Func<IServiceProvider, IDeliveryMiddleware> Create);
