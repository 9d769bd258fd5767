using System.Diagnostics;
using Herald.Diagnostics;

namespace Herald.Handling.Middleware;

/// <summary>
/// Records each delivery's outcome on <c>Meter("Herald")</c>: handled, failed attempts, retries, dead letters,
/// duplicates, and the processing duration (<c>messaging.process.duration</c>, seconds).
/// </summary>
internal sealed class MetricsMiddleware(BusTelemetry telemetry) : IDeliveryMiddleware
{
    // Nothing listening to these instruments: no clock reads, no tag lists, no state machine.
    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next) => Observed ? MeasureAsync(context, next) : next(context);

    private async ValueTask MeasureAsync(DeliveryContext context, DeliveryDelegate next)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            Record(context, Stopwatch.GetElapsedTime(started));
        }
    }

    private bool Observed =>
        telemetry.Duration.Enabled || telemetry.Handled.Enabled || telemetry.Failed.Enabled || telemetry.Retried.Enabled
        || telemetry.DeadLettered.Enabled || telemetry.Duplicates.Enabled;

    private void Record(DeliveryContext context, TimeSpan elapsed)
    {
        var topic = new KeyValuePair<string, object?>("messaging.destination.name", context.Envelope.Type);
        var group = new KeyValuePair<string, object?>("messaging.consumer.group.name", context.Handler.Group);
        int attempts = context.Attempt - context.Envelope.Attempt + 1;
        bool failedLast = context.Outcome is DeliveryOutcome.DeadLettered or DeliveryOutcome.Failed or DeliveryOutcome.Rescheduled;
        int failures = attempts - (failedLast ? 0 : 1);
        if (context.Outcome is DeliveryOutcome.Duplicate or DeliveryOutcome.Cancelled)
        {
            failures = attempts - 1;
        }

        if (failures > 0)
        {
            telemetry.Failed.Add(failures, telemetry.BusTag, topic, group);
        }

        if (attempts > 1)
        {
            telemetry.Retried.Add(attempts - 1, telemetry.BusTag, topic, group);
        }

        switch (context.Outcome)
        {
            case DeliveryOutcome.Handled:
                telemetry.Handled.Add(1, telemetry.BusTag, topic, group);
                break;
            case DeliveryOutcome.DeadLettered:
                telemetry.DeadLettered.Add(1, telemetry.BusTag, topic, group);
                break;
            case DeliveryOutcome.Duplicate:
                telemetry.Duplicates.Add(1, telemetry.BusTag, topic, group);
                break;
        }

        if (telemetry.Duration.Enabled)
        {
            telemetry.Duration.Record(
                elapsed.TotalSeconds,
                [telemetry.BusTag, topic, group, new("messaging.operation.name", "process"), new("herald.outcome", Outcome(context.Outcome))]);
        }
    }

    private static string Outcome(DeliveryOutcome outcome) => outcome switch
    {
        DeliveryOutcome.Handled => "handled",
        DeliveryOutcome.Duplicate => "duplicate",
        DeliveryOutcome.DeadLettered => "dead_lettered",
        DeliveryOutcome.Failed => "failed",
        DeliveryOutcome.Cancelled => "cancelled",
        DeliveryOutcome.Rescheduled => "rescheduled",
        _ => "pending",
    };
}
