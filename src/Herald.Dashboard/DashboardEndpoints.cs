using System.Text;
using System.Text.Json;
using Herald.Dashboard.Systems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Dashboard;

/// <summary>The dashboard's page, its script, and the JSON API the page reads, mapped under one prefix.</summary>
internal static class DashboardEndpoints
{
    private const int MaxList = 500;

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix, HeraldSystem system, HeraldDashboardOptions options, Sampler sampler)
    {
        prefix = "/" + prefix.Trim('/');
        RouteGroupBuilder group = endpoints.MapGroup(prefix);
        group.AddEndpointFilter(async (context, next) =>
        {
            HttpResponse response = context.HttpContext.Response;
            response.Headers.ContentSecurityPolicy =
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'none'";
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers["Referrer-Policy"] = "no-referrer";
            return RequestGuard.RefuseRead(context.HttpContext, options) is { } why
                ? Results.Json(new { error = why }, statusCode: StatusCodes.Status403Forbidden)
                : await next(context).ConfigureAwait(false);
        });
        if (options.ReadsPolicy is { } readers)
        {
            group.RequireAuthorization(readers);
        }
        string page = Resource("index.html").Replace("{{base}}", prefix == "/" ? "/" : prefix + "/", StringComparison.Ordinal);

        var actions = new List<RouteHandlerBuilder>(); // the endpoints that change things
        group.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        group.MapGet("/app.js", () => Results.Content(Resource("app.js"), "text/javascript; charset=utf-8"));
        group.MapGet("/app.css", () => Results.Content(Resource("app.css"), "text/css; charset=utf-8"));

        group.MapGet("/api/overview", () => Results.Json(new
        {
            name = system.Name,
            hasLog = system.HasLog,
            actions = options.AllowActions,
            gates = system.Gates is not null,
        }));

        group.MapGet("/api/topology", async (CancellationToken ct) => Results.Json(TopologyJson(await system.GetTopologyAsync(ct).ConfigureAwait(false))));

        group.MapGet("/api/events", async (long? after, string? pattern, int? max, CancellationToken ct) =>
        {
            if (!TryPattern(pattern, out TopicPattern? parsed, out IResult? bad))
            {
                return bad;
            }

            // The first read shows the newest events; later ones what came after the last seen.
            long head = after ?? await system.GetHeadAsync(ct).ConfigureAwait(false);
            IReadOnlyList<ObservedEvent> events = after is null
                ? await system.ReadLatestAsync(Math.Clamp(max ?? 50, 1, MaxList), parsed, ct).ConfigureAwait(false)
                : await system.ReadEventsAsync(after.Value, Math.Clamp(max ?? 100, 1, MaxList), parsed, ct).ConfigureAwait(false);
            head = events.Count > 0 ? Math.Max(head, events[^1].Position) : head;
            return Results.Json(new { head, events = events.Select(EventLine) });
        });

        group.MapGet("/api/events/{id}", async (string id, CancellationToken ct) =>
            await system.GetEventAsync(id, ct).ConfigureAwait(false) is { } detail
                ? Results.Json(new { @event = EnvelopeJson(detail.Event.Envelope, detail.Event.Position), deliveries = detail.Deliveries })
                : Results.NotFound(new { error = $"No event with id '{id}' is held by {system.Name} (the view keeps the newest events only)." }));

        group.MapGet("/api/dead-letters", async (string? pattern, CancellationToken ct) =>
        {
            if (!TryPattern(pattern, out TopicPattern? parsed, out IResult? bad))
            {
                return bad;
            }

            IReadOnlyList<DeadLetter> letters = await system.ListDeadLettersAsync(parsed, MaxList, ct).ConfigureAwait(false);
            return Results.Json(letters.Select(DeadLetterLine));
        });

        group.MapGet("/api/dead-letters/{id}", async (string id, CancellationToken ct) =>
            await system.GetDeadLetterAsync(id, ct).ConfigureAwait(false) is { } letter
                ? Results.Json(new { letter = DeadLetterLine(letter), envelope = EnvelopeJson(letter.Envelope, null), exceptionMessage = letter.ExceptionMessage })
                : Results.NotFound(new { error = $"No dead letter with id '{id}'." }));

        actions.Add(group.MapPost("/api/dead-letters/redrive", async (RedriveRequest request, HttpContext http, CancellationToken ct) =>
        {
            if (Refused(http, options) is { } refused)
            {
                return refused;
            }

            var results = new List<object>();
            int redriven = 0;
            foreach (string id in request.Ids ?? [])
            {
                bool done = await system.RedriveAsync(id, ct).ConfigureAwait(false);
                redriven += done ? 1 : 0;
                results.Add(new { id, redriven = done, error = done ? null : $"No dead letter with id '{id}'." });
            }

            return Results.Json(new { redriven, results });
        }));

        actions.Add(group.MapPost("/api/dead-letters/delete", async (RedriveRequest request, HttpContext http, CancellationToken ct) =>
        {
            if (Refused(http, options) is { } refused)
            {
                return refused;
            }

            int deleted = 0;
            foreach (string id in request.Ids ?? [])
            {
                deleted += await system.PurgeAsync(id, ct).ConfigureAwait(false) ? 1 : 0;
            }

            return Results.Json(new { deleted });
        }));

        group.MapGet("/api/gates", () => system.Gates is { } gates
            ? Results.Json(gates.List().Select(g => new { pattern = g.Pattern, state = g.State.ToString(), held = g.Held, behavior = g.Behavior.ToString() }))
            : Results.Json(new { error = $"Topic gates live in the running application's bus; {system.Name} is not one. Mount the dashboard in the application (app.MapHeraldDashboard) to operate them." }, statusCode: StatusCodes.Status404NotFound));

        actions.Add(group.MapPost("/api/gates", (GateRequest request, HttpContext http) =>
        {
            if (Refused(http, options) is { } refused)
            {
                return refused;
            }

            if (system.Gates is not { } gates)
            {
                return Results.Json(new { error = "No topic gates here: mount the dashboard in the application." }, statusCode: StatusCodes.Status404NotFound);
            }

            if (!TopicPattern.TryParse(request.Pattern, out _))
            {
                return Results.BadRequest(new { error = $"'{request.Pattern}' is not a topic pattern: segments of letters, digits, '-' and '_' separated by '.', with '*' for one segment and '#' for the rest." });
            }

            switch (request.Action)
            {
                case "pause": gates.Pause(request.Pattern!); break;
                case "block": gates.Block(request.Pattern!, BlockBehavior.Throw); break;
                case "discard": gates.Block(request.Pattern!, BlockBehavior.Discard); break;
                case "resume":
                    if (!gates.Resume(request.Pattern!))
                    {
                        return Results.NotFound(new { error = $"No gate on '{request.Pattern}'." });
                    }

                    break;
                default:
                    return Results.BadRequest(new { error = $"Unknown gate action '{request.Action}': pause, block, discard or resume." });
            }

            return Results.Json(new { pattern = request.Pattern, action = request.Action });
        }));

        group.MapGet("/api/charts", () => Results.Json(sampler.Points()));

        if (options.ActionsPolicy is { } policy)
        {
            foreach (RouteHandlerBuilder action in actions)
            {
                action.RequireAuthorization(policy);
            }
        }

        return group;
    }

    internal static object EventLine(ObservedEvent e) => new
    {
        position = e.Position,
        id = e.Envelope.Id,
        topic = e.Envelope.Type,
        key = e.Envelope.Subject,
        time = e.Envelope.Time,
        source = e.Envelope.Source,
        preview = Preview(PayloadText(e.Envelope), 120),
    };

    internal static object DeadLetterLine(DeadLetter d) => new
    {
        id = d.Id,
        eventId = d.Envelope.Id,
        topic = d.Envelope.Type,
        key = d.Envelope.Subject,
        consumer = d.Consumer,
        reason = d.Reason,
        exception = d.ExceptionType,
        message = d.ExceptionMessage is null ? null : Preview(d.ExceptionMessage, 120),
        attempts = d.Attempts,
        time = d.Time,
    };

    internal static object EnvelopeJson(Envelope e, long? position) => new
    {
        position,
        id = e.Id,
        source = e.Source,
        type = e.Type,
        subject = e.Subject,
        time = e.Time,
        specversion = e.SpecVersion,
        datacontenttype = e.DataContentType,
        dataschema = e.DataSchema,
        traceparent = e.TraceParent,
        traceId = TraceId(e.TraceParent),
        correlationid = e.CorrelationId,
        causationid = e.CausationId,
        attempt = e.Attempt,
        headers = e.Headers,
        data = PayloadText(e),
    };

    /// <summary>The payload as text: the encoded bytes when the event came from a store or broker, else the object as JSON.</summary>
    internal static string PayloadText(Envelope e)
    {
        if (!e.EncodedData.IsEmpty)
        {
            return Encoding.UTF8.GetString(e.EncodedData.Span);
        }

        if (e.Data is null)
        {
            return string.Empty;
        }

        try
        {
            return JsonSerializer.Serialize(e.Data, e.Data.GetType());
        }
        catch (NotSupportedException)
        {
            return e.Data.ToString() ?? string.Empty;
        }
    }

    internal static string Preview(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

    internal static string? TraceId(string? traceParent) =>
        traceParent is { Length: >= 55 } && traceParent[2] == '-' ? traceParent.Substring(3, 32) : null;

    private static object TopologyJson(TopologyView topology)
    {
        // Topics no event has been seen for yet still show when a member subscribes to them by exact name.
        var topics = topology.Topics.ToList();
        foreach (MemberView member in topology.Groups.SelectMany(g => g.Members))
        {
            if (TopicPattern.TryParse(member.Pattern, out TopicPattern? p) && p.IsExact && !topics.Exists(t => t.Name == member.Pattern))
            {
                topics.Add(new TopicView(member.Pattern, 0, 0, []));
            }
        }

        var edges = new List<object>();
        foreach (TopicView topic in topics)
        {
            foreach (GroupView group in topology.Groups)
            {
                if (group.Members.Any(m => TopicPattern.TryParse(m.Pattern, out TopicPattern? p) && p.IsMatch(topic.Name)))
                {
                    // Depth per topic where the system knows it (a log), else the group's whole queue (the bus's own queues).
                    long depth = group.DepthByTopic.Count == 0 ? group.Depth : group.DepthByTopic.GetValueOrDefault(topic.Name);
                    edges.Add(new { topic = topic.Name, group = group.Name, rate = topic.RatePerSecond, depth });
                }
            }
        }

        return new
        {
            publishers = topics.SelectMany(t => t.Sources.Select(s => new { source = s, topic = t.Name })),
            topics = topics.OrderBy(t => t.Name, StringComparer.Ordinal),
            groups = topology.Groups,
            edges,
        };
    }

    private static bool TryPattern(string? pattern, out TopicPattern? parsed, out IResult? bad)
    {
        parsed = null;
        bad = null;
        if (string.IsNullOrWhiteSpace(pattern))
        {
            return true;
        }

        if (TopicPattern.TryParse(pattern, out parsed))
        {
            return true;
        }

        bad = Results.BadRequest(new { error = $"'{pattern}' is not a topic pattern: segments of letters, digits, '-' and '_' separated by '.', with '*' for one segment and '#' for the rest." });
        return false;
    }

    /// <summary>Why an action is refused: read-only, or a request from another machine without an authorization policy.</summary>
    internal static IResult? Refused(HttpContext http, HeraldDashboardOptions options) =>
        RequestGuard.RefuseAction(http, options) is { } why ? Results.Json(new { error = why }, statusCode: StatusCodes.Status403Forbidden) : null;

    private static string Resource(string name)
    {
        using Stream stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("herald/" + name)
            ?? throw new InvalidOperationException($"The dashboard's resource '{name}' is missing from {typeof(DashboardEndpoints).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
