using Herald.Testing.Transports;

namespace Herald.ThirdPartyTransport.Tests;

/// <summary>A third party's transport passes Herald's conformance suite with an empty body.</summary>
public sealed class PlainTransportConformanceTests() : TransportConformanceTests(new PlainTransportFixture());
