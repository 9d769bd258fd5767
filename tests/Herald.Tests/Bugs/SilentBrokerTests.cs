using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Herald.RabbitMQ;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Bugs;

/// <summary>
/// Issue 16, finding 9: with <c>UseRabbitMQ</c> pointed at an endpoint that accepts TCP but never speaks AMQP,
/// <c>host.StartAsync</c> hung for good (the connection was made in the transport's constructor, without a token or a
/// timeout of its own), and cancelling the start token did not stop it.
/// </summary>
public sealed class SilentBrokerTests : IDisposable
{
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = [];

    public SilentBrokerTests()
    {
        _silent.Start();
        _ = AcceptForeverAsync();
    }

    private string Uri => $"amqp://guest:secret@127.0.0.1:{((IPEndPoint)_silent.LocalEndpoint).Port}/";

    public void Dispose()
    {
        _silent.Stop();
        lock (_accepted)
        {
            _accepted.ForEach(s => s.Dispose());
        }
    }

    private async Task AcceptForeverAsync()
    {
        try
        {
            while (true)
            {
                Socket socket = await _silent.AcceptSocketAsync(); // accepted, and never answered
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // the test is over
        }
    }

    private ServiceProvider Services(TimeSpan connectTimeout)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHerald(h =>
        {
            h.UseRabbitMQ(Uri, o => o.ConnectTimeout = connectTimeout);
            h.AddHandler<Email, UserCreated>();
        });
        services.AddSingleton(new Seen());
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task StartAsync_AgainstAServerThatNeverAnswers_FailsWithinTheConnectTimeout_NamingIt()
    {
        await using ServiceProvider services = Services(TimeSpan.FromSeconds(2));

        var stopwatch = Stopwatch.StartNew();
        Task start = Task.Run(() => services.GetRequiredService<HandlerHost>().StartAsync(CancellationToken.None)); // building the bus hung, once
        TimeoutException ex = await Assert.ThrowsAsync<TimeoutException>(() => start.WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"the start took {stopwatch.Elapsed}");
        Assert.Contains("ConnectTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{((IPEndPoint)_silent.LocalEndpoint).Port}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_AgainstAServerThatNeverAnswers_StopsWhenTheStartTokenIsCancelled()
    {
        await using ServiceProvider services = Services(TimeSpan.FromMinutes(5));
        using var cancel = new CancellationTokenSource();

        Task start = Task.Run(() => services.GetRequiredService<HandlerHost>().StartAsync(cancel.Token));
        cancel.CancelAfter(TimeSpan.FromMilliseconds(500)); // while the handshake waits for an answer

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Publish_AgainstAServerThatNeverAnswers_FailsWithinTheConnectTimeout()
    {
        await using var bus = new EventBus(new EventBusOptions().UseRabbitMQ(new RabbitMqOptions { Uri = Uri, ConnectTimeout = TimeSpan.FromSeconds(2) }));

        BrokerPublishException ex = await Assert.ThrowsAsync<BrokerPublishException>(
            async () => await bus.PublishAsync(new UserCreated(1, "a@b.c", DateTimeOffset.UnixEpoch)).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains("ConnectTimeout", ex.Message, StringComparison.Ordinal);
    }
}
