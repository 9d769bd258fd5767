namespace Herald;

/// <summary>
/// One step of the handler pipeline, in the ASP.NET Core shape. Registered with <c>h.Use&lt;T&gt;()</c>, resolved once
/// per consumer from DI (so it is a singleton: take scoped services from <see cref="DeliveryContext.Services"/>).
/// </summary>
public interface IDeliveryMiddleware
{
    /// <summary>Runs this step; call <paramref name="next"/> to run the rest of the pipeline and the handler.</summary>
    /// <param name="context">The delivery.</param>
    /// <param name="next">The rest of the pipeline.</param>
    ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next);
}
