using System.CommandLine;

namespace StreamBench.Cli.Commands;

/// <summary>Every command, in the order <c>--help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return SaveCommand.Create();
        yield return RestoreCommand.Create();
        yield return InspectCommand.Create();
        yield return DumpCommand.Create();
        yield return VerifyCommand.Create();
        yield return GenerateCommand.Create();
        yield return ConvertLegacyCommand.Create();
        yield return RecordCommand.Create();
        yield return ReplayCommand.Create();
        yield return ConfigCommand.Create();
        yield return SliceCommand.Create();
        yield return ScrubCommand.Create();
        yield return DiffCommand.Create();
        yield return ReportCommand.Create();
        yield return ExportCommand.Create();
        yield return FuzzCommand.Create();
        yield return LabCommand.Create();
    }
}
