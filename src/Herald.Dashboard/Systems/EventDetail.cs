namespace Herald.Dashboard.Systems;

/// <summary>One event with what became of it in each consumer.</summary>
internal sealed record EventDetail(ObservedEvent Event, IReadOnlyList<DeliveryView> Deliveries);

/// <summary>What one consumer did with an event: its status (pending, delivered, handled, dead-lettered...), attempts and detail.</summary>
internal sealed record DeliveryView(string Consumer, string Status, int? Attempts, string? Detail);
