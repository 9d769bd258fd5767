using System.Diagnostics;
using Herald.Diagnostics;

namespace Herald.Handling.Middleware;

/// <summary>
/// An <see cref="Activity"/> per delivery (<c>process {topic}</c>, kind Consumer) from <c>ActivitySource("Herald")</c>,
/// parented by the envelope's <c>traceparent</c>, tagged after the OpenTelemetry messaging conventions.
/// </summary>
internal sealed class TracingMiddleware(BusTelemetry telemetry) : IDeliveryMiddleware
{
    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next) =>
        telemetry.Source.HasListeners() ? TraceAsync(context, next) : next(context);

    private async ValueTask TraceAsync(DeliveryContext context, DeliveryDelegate next)
    {
        Envelope envelope = context.Envelope;
        ActivityContext.TryParse(envelope.TraceParent, envelope.TraceState, isRemote: true, out ActivityContext parent);
        using Activity? activity = telemetry.Source.StartActivity($"process {envelope.Type}", ActivityKind.Consumer, parent);
        if (activity is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        activity.SetTag("messaging.system", "herald");
        activity.SetTag("messaging.operation.name", "process");
        activity.SetTag("messaging.operation.type", "process");
        activity.SetTag("messaging.destination.name", envelope.Type);
        activity.SetTag("messaging.consumer.group.name", context.Handler.Group);
        activity.SetTag("messaging.message.id", envelope.Id);
        activity.SetTag("herald.handler", context.Handler.Name);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity.AddException(ex);
            activity.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            activity.SetTag("herald.attempts", context.Attempt);
            activity.SetTag("herald.outcome", context.Outcome.ToString());
            if (context.Outcome is DeliveryOutcome.DeadLettered or DeliveryOutcome.Failed)
            {
                activity.SetTag("error.type", context.Exception?.GetType().FullName ?? "failed");
                activity.SetStatus(ActivityStatusCode.Error, context.Exception?.Message);
            }
        }
    }
}
