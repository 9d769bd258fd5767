using Herald.Handling.Middleware;

namespace Herald.Handling;

/// <summary>
/// Composes a consumer's steps around its handler into one <see cref="DeliveryDelegate"/>, once per consumer. Every
/// step gets a <c>next</c> that never throws: a step that throws synchronously fails its task instead.
/// </summary>
/// <remarks>
/// Each built-in step is bound by a delegate of its own (one arm per type below), so the call to it is direct and
/// can be inlined; bound through one shared wrapper, the call would be one interface call site for every step of
/// every consumer (megamorphic, never inlined): a million-event fan-out through the default pipeline ran ~5-15%
/// slower that way. Any other middleware goes through the shared wrapper.
/// </remarks>
internal static class PipelineComposer
{
    public static DeliveryDelegate Compose(IDeliveryMiddleware[] steps, DeliveryDelegate terminal)
    {
        DeliveryDelegate next = terminal;
        for (int i = steps.Length - 1; i >= 0; i--)
        {
            next = Bind(steps[i], next);
        }

        return next;
    }

    private static DeliveryDelegate Bind(IDeliveryMiddleware step, DeliveryDelegate next) => step switch
    {
        TracingMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        MetricsMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        LoggingMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        IsolationMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        DeadLetterMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        IdempotencyMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        RetryMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        TimeoutMiddleware m => c => { try { return m.InvokeAsync(c, next); } catch (Exception ex) { return ValueTask.FromException(ex); } },
        _ => c =>
        {
            try
            {
                return step.InvokeAsync(c, next);
            }
            catch (Exception ex)
            {
                return ValueTask.FromException(ex);
            }
        },
    };
}
