namespace Herald.Testing.Transports;

/// <summary>A kind of bad input a foreign producer can put on a transport (<see cref="TransportFixture.InjectAsync"/>).</summary>
public enum PoisonKind
{
    /// <summary>Bytes that are not a CloudEvent at all (e.g. <c>not a cloud event</c>), on the topic.</summary>
    NotACloudEvent,

    /// <summary>A CloudEvent whose required attribute is malformed (an empty id, a time out of range).</summary>
    MalformedAttribute,
}
