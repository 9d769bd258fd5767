using System.Text;

namespace Herald.Postgres;

/// <summary>
/// Herald patterns as PostgreSQL regular expressions, for routing in SQL: a publish writes a row for each group whose
/// expression matches <c>'.' || topic</c> (the leading dot makes every segment <c>\.segment</c>): <c>*</c> is one
/// segment (<c>\.[^.]+</c>), <c>#</c> zero or more (<c>(\.[^.]+)*</c>), anything else the segment itself.
/// </summary>
internal static class PostgresPatterns
{
    /// <summary>The expression for <paramref name="pattern"/>, matched against <c>'.' || topic</c>.</summary>
    public static string Regex(TopicPattern pattern)
    {
        var regex = new StringBuilder("^");
        foreach (string segment in pattern.Value.Split('.'))
        {
            switch (segment)
            {
                case "#":
                    regex.Append(@"(\.[^.]+)*");
                    break;
                case "*":
                    regex.Append(@"\.[^.]+");
                    break;
                default:
                    regex.Append(@"\.");
                    foreach (char c in segment)
                    {
                        if (!char.IsAsciiLetterOrDigit(c))
                        {
                            regex.Append('\\'); // in PostgreSQL's expressions, a backslash before a non-alphanumeric makes it literal
                        }

                        regex.Append(c);
                    }

                    break;
            }
        }

        return regex.Append('$').ToString();
    }
}
