using Herald.Tests.Support;

namespace Herald.Tests.Contracts;

public sealed class EnvelopeTests
{
    [Fact]
    public void Constructor_BadTopic_Throws()
    {
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => new Envelope("created", null, TestEvents.Now));
        Assert.Contains("'created'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Id_IsStableAcrossReadsAndThreads()
    {
        var envelope = new Envelope("user.created", null, TestEvents.Now);
        string[] ids = new string[16];
        Parallel.For(0, ids.Length, i => ids[i] = envelope.Id);
        Assert.Single(ids.Distinct());
    }

    [Fact]
    public void Id_DistinctPerEnvelope_AndTimeOrdered()
    {
        var first = new Envelope("user.created", null, TestEvents.Now);
        var later = new Envelope("user.created", null, TestEvents.Now.AddSeconds(1));
        Assert.NotEqual(first.Id, new Envelope("user.created", null, TestEvents.Now).Id);
        Assert.True(string.CompareOrdinal(first.Id, later.Id) < 0, "UUIDv7 ids sort by time");
    }

    [Fact]
    public void Defaults_FollowCloudEvents()
    {
        var envelope = new Envelope("user.created", TestEvents.User(1), TestEvents.Now);
        Assert.Equal("1.0", envelope.SpecVersion);
        Assert.Equal(1, envelope.Attempt);
        Assert.Empty(envelope.Headers);
        Assert.True(envelope.EncodedData.IsEmpty);
    }
}
