using Herald.RabbitMQ;

namespace Herald.Tests.RabbitMQ;

/// <summary>Issue 17: every option is checked when the bus is configured, and the error names it.</summary>
public sealed class RabbitMqOptionsTests
{
    public static TheoryData<string, Action<RabbitMqOptions>> Bad => new()
    {
        { "Uri", o => o.Uri = "http://127.0.0.1/" },
        { "Exchange", o => o.Exchange = " " },
        { "PublishTimeout", o => o.PublishTimeout = TimeSpan.Zero },
        { "ConnectTimeout", o => o.ConnectTimeout = Timeout.InfiniteTimeSpan },
        { "RecoveryInterval", o => o.RecoveryInterval = TimeSpan.Zero },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void AnOptionOutOfRange_IsRefusedNamingIt(string option, Action<RabbitMqOptions> spoil)
    {
        var options = new RabbitMqOptions();
        spoil(options);

        var ex = Assert.ThrowsAny<ArgumentException>(() => new EventBusOptions().UseRabbitMQ(options));

        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }
}
