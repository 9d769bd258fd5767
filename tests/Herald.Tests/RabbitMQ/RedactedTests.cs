using Herald.RabbitMQ;

namespace Herald.Tests.RabbitMQ;

/// <summary>Issue 17: messages quoting a broker URI echoed its password; they show the user and <c>***</c>.</summary>
public sealed class RedactedTests
{
    [Theory]
    [InlineData("amqp://guest:secret@127.0.0.1:5672/", "amqp://guest:***@127.0.0.1:5672/")]
    [InlineData("amqps://svc:p%40ss:word@broker/vhost", "amqps://svc:***@broker/vhost")]
    [InlineData("amqp//guest:secret@127.0.0.1", "amqp//guest:***@127.0.0.1")]
    [InlineData("guest:secret@127.0.0.1", "guest:***@127.0.0.1")]
    [InlineData("amqp://guest@127.0.0.1/", "amqp://guest@127.0.0.1/")]
    [InlineData("amqp://127.0.0.1:5672/", "amqp://127.0.0.1:5672/")]
    [InlineData("amqp://guest:se?cr#et/x@127.0.0.1/", "amqp://guest:***@127.0.0.1/")] // separators left unencoded in the password
    public void Uri_HidesThePassword_KeepsTheRest(string uri, string shown) => Assert.Equal(shown, Redacted.Uri(uri));

    [Fact]
    public void OptionsValidation_DoesNotEchoThePassword()
    {
        var ex = Assert.Throws<ArgumentException>(() => new EventBusOptions().UseRabbitMQ(new RabbitMqOptions { Uri = "http://guest:secret@127.0.0.1/" }));

        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
        Assert.Contains("guest:***@", ex.Message, StringComparison.Ordinal);
    }
}
