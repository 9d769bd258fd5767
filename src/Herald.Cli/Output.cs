using Spectre.Console;

namespace Herald.Cli;

/// <summary>Where the command writes: a Spectre console on standard output (wide and plain when redirected), errors to standard error.</summary>
internal static class Output
{
    public static IAnsiConsole Console { get; } = Create();

    public static bool Redirected => System.Console.IsOutputRedirected;

    public static void Error(string message) => System.Console.Error.WriteLine($"herald: {message}");

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
