using System.Net;
using System.Net.Sockets;

namespace Herald.Tests.Support;

/// <summary>Ports on 127.0.0.1 for the tests' own servers (and for a port where nothing listens).</summary>
public static class LoopbackPort
{
    /// <summary>A port the system just gave out and took back: free now, nothing listens there.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
