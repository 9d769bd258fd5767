namespace Herald.Handling;

/// <summary>A handler registration, checked and ready to run: who it is and how to call it.</summary>
internal sealed record HandlerRegistration(HandlerDescriptor Descriptor, DeliveryDelegate Invoke);
