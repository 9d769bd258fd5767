using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace Herald.Cli.Commands;

/// <summary>
/// <c>herald check-settings FILE [--section Herald] [--handlers a,b]</c>: checks Herald's settings in a JSON settings
/// file the way <c>BindConfiguration</c> will at startup, without starting the application.
/// </summary>
internal static class CheckSettingsCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A JSON settings file, such as appsettings.Production.json." };
        var section = new Option<string>("--section") { Description = "The section holding Herald's settings.", DefaultValueFactory = _ => "Herald", HelpName = "name" };
        var handlers = new Option<string?>("--handlers") { Description = "The application's handler (consumer) names, comma separated: a handler section naming none of them is then an error too.", HelpName = "names" };
        var command = new Command("check-settings", """
            Check Herald's settings in a JSON settings file as the application will at startup (h.BindConfiguration): every key known, every value parsed, every option within its bounds.
            Example: herald check-settings appsettings.Production.json --handlers SendWelcomeEmail,AwardPoints,RiskCheck
            """)
        {
            file, section, handlers,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(
            () => Task.FromResult(Check(parse.GetValue(file)!, parse.GetValue(section)!, parse.GetValue(handlers))),
            ct));
        return command;
    }

    private static int Check(string path, string sectionName, string? handlerNames)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"There is no settings file at {path}.");
        }

        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false).Build();
        }
        catch (InvalidDataException ex)
        {
            throw new CliException($"{path} is not a JSON settings file: {ex.GetBaseException().Message}");
        }

        IConfigurationSection herald = configuration.GetSection(sectionName);
        if (!herald.Exists())
        {
            throw new CliException($"{path} has no '{sectionName}' section.");
        }

        // The same reading and the same checks as AddHerald's, on fresh options (the code's own settings are not here).
        var settings = new HeraldSettings(herald);
        var bus = new EventBusOptions();
        var host = new HeraldHostOptions();
        settings.Apply(bus, host);
        host.Validate();
        bus.Validate();
        string[] configured = [.. herald.GetSection("Handlers").GetChildren().Select(h => h.Key)];
        string[]? registered = handlerNames?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        settings.CheckHandlers(registered ?? configured);
        foreach (string handler in configured)
        {
            var options = new HandlerOptions();
            settings.Apply(handler, options);
            options.Validate(handler);
        }

        Console.WriteLine(
            $"{path}: the '{sectionName}' section checks out (bus, host, {configured.Length} handler section{(configured.Length == 1 ? string.Empty : "s")}"
            + (configured.Length == 0 ? ")." : $": {string.Join(", ", configured)}).")
            + (registered is null ? " Handler names were not checked against the application's: give --handlers." : string.Empty));
        return ExitCodes.Ok;
    }
}
