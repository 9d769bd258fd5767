namespace Herald.Analyzers.Tests;

/// <summary>The analyzer's copy of the grammar answers as Herald's does, over many strings near the grammar's edges.</summary>
public sealed class GrammarParityTests
{
    [Fact]
    public void TheAnalyzer_AcceptsWhatHeraldAccepts_AndRefusesWhatItRefuses()
    {
        const string Alphabet = "ab0.*#-_Z ";
        var random = new Random(20261203);
        for (int i = 0; i < 50_000; i++)
        {
            char[] text = new char[random.Next(0, 12)];
            for (int c = 0; c < text.Length; c++)
            {
                text[c] = Alphabet[random.Next(Alphabet.Length)];
            }

            string candidate = new(text);
            Assert.True(Topic.IsValid(candidate) == (TopicGrammar.ExplainTopic(candidate) is null), $"topic '{candidate}'");
            Assert.True(TopicPattern.TryParse(candidate, out _) == (TopicGrammar.ExplainPattern(candidate) is null), $"pattern '{candidate}'");
        }

        string longest = "a." + new string('b', 253);
        Assert.Equal(Topic.IsValid(longest), TopicGrammar.ExplainTopic(longest) is null);
        Assert.Equal(Topic.IsValid(longest + "c"), TopicGrammar.ExplainTopic(longest + "c") is null);
    }
}
