using Spectre.Console;

namespace Herald.Cli;

/// <summary>Where the command writes: a Spectre console on standard output (wide and plain when redirected), errors to standard error.</summary>
internal static class Output
{
    public static IAnsiConsole Console { get; } = Create();

    public static bool Redirected => System.Console.IsOutputRedirected;

    public static void Error(string message) => System.Console.Error.WriteLine($"herald: {Safe(message, keepLineBreaks: true)}");

    /// <summary>
    /// Text from events made safe for a terminal: control characters (C0 and C1, DEL) and the bidirectional overrides
    /// that reorder what a reader sees are written as <c>\u001B</c>-style escapes, so an event's subject, payload or
    /// exception message can never move the cursor, retitle the window, clear the screen or hide text.
    /// </summary>
    /// <param name="text">What an event, a dead letter or a stored file holds.</param>
    /// <param name="keepLineBreaks">Keep <c>\n</c> (and <c>\r\n</c>) and tabs as they are, for multi-line values.</param>
    public static string Safe(string? text, bool keepLineBreaks = false)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(c => Unsafe(c, keepLineBreaks)))
        {
            return text ?? string.Empty;
        }

        var safe = new System.Text.StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (Unsafe(c, keepLineBreaks))
            {
                safe.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                safe.Append(c);
            }
        }

        return safe.ToString();
    }

    private static bool Unsafe(char c, bool keepLineBreaks) =>
        (char.IsControl(c) && !(keepLineBreaks && c is '\n' or '\r' or '\t'))
        || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    private static IAnsiConsole Create()
    {
        bool redirected = System.Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(System.Console.Out),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = 240;
        }

        return console;
    }
}
