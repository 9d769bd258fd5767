using Herald.Handling;

namespace Herald;

/// <summary>Everything <c>AddHerald</c> registered, checked: the handlers, the pipeline steps and the recurring publishes.</summary>
internal sealed record HandlerCatalog(IReadOnlyList<HandlerRegistration> Handlers, IReadOnlyList<PipelineStep> Pipeline, IReadOnlyList<RecurringPublish> Recurring);
