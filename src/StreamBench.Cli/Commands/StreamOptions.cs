using System.CommandLine;
using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary>The input argument and the --format/--dialect options every stream-reading command shares.</summary>
internal sealed class StreamOptions
{
    public Argument<string> Input { get; } = new("input") { Description = "stream file, or - for standard input" };

    public Option<string> Format { get; } = new("--format", "-f")
    {
        Description = "outer layer: auto, xl, libxl, libxc, legacy, back-channel, migrate-receiver",
        DefaultValueFactory = _ => "auto",
    };

    public Option<string> Dialect { get; } = new("--dialect")
    {
        Description = "record dictionary: upstream or postcopy-rfc (never guessed: 0x10-0x12 differ)",
        DefaultValueFactory = _ => "upstream",
    };

    public Option<bool> Colo { get; } = new("--colo")
    {
        Description = "a COLO primary stream: a libxl CHECKPOINT_STATE follows each CHECKPOINT_END (never guessed: its type number is also a libxc one)",
    };

    public Option<string> LegacyWidth { get; } = new("--width", "-w")
    {
        Description = "legacy input: toolstack word size, 32 or 64 (default: detected from octets 4-7, FORMATS.md 6)",
    };

    public Option<string> LegacyGuest { get; } = new("--guest", "-g")
    {
        Description = "legacy input: guest type, pv or hvm (default: detected)",
    };

    public Option<string> Direction { get; } = new("--direction")
    {
        Description = "capture input: the direction to read, s2r (sender to receiver, the default) or r2s",
        DefaultValueFactory = _ => "s2r",
    };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Input);
        command.Options.Add(Direction);
        command.Options.Add(Format);
        command.Options.Add(Dialect);
        command.Options.Add(Colo);
        command.Options.Add(LegacyWidth);
        command.Options.Add(LegacyGuest);
    }

    public Formats.Legacy.LegacyStreamReaderOptions LegacyOptions(ParseResult parse) => new()
    {
        Width = parse.GetValue(LegacyWidth) switch
        {
            null or "" or "auto" => Formats.Legacy.LegacyWidth.Auto,
            "32" => Formats.Legacy.LegacyWidth.Bits32,
            "64" => Formats.Legacy.LegacyWidth.Bits64,
            var w => throw new ArgumentException($"--width takes 32 or 64, not '{w}'"),
        },
        GuestType = parse.GetValue(LegacyGuest) switch
        {
            null or "" or "auto" => Formats.Legacy.LegacyGuestType.Auto,
            "pv" => Formats.Legacy.LegacyGuestType.Pv,
            "hvm" => Formats.Legacy.LegacyGuestType.Hvm,
            var g => throw new ArgumentException($"--guest takes pv or hvm, not '{g}'"),
        },
    };

    /// <summary>Opens the input through the one input seam (zstd, captures, legacy detection).</summary>
    public OpenedInput Open(ParseResult parse) => StreamInputs.Open(parse.GetValue(Input)!, new StreamInputOptions
    {
        Format = ParseFormat(parse.GetValue(Format)),
        Direction = CaptureDirections.Parse(parse.GetValue(Direction)),
    });

    public XenStreamReaderOptions ReaderOptions(ParseResult parse) => new()
    {
        Format = ParseFormat(parse.GetValue(Format)),
        Dialect = CliParsing.ParseDialect(parse.GetValue(Dialect)),
        Colo = parse.GetValue(Colo),
    };

    public static OuterFormat ParseFormat(string? value) => value switch
    {
        null or "" or "auto" => OuterFormat.Auto,
        "xl" => OuterFormat.Xl,
        "libxl" => OuterFormat.Libxl,
        "libxc" => OuterFormat.Libxc,
        "legacy" => OuterFormat.Legacy,
        "back-channel" or "backchannel" => OuterFormat.BackChannel,
        "migrate-receiver" => OuterFormat.MigrateReceiver,
        _ => throw new ArgumentException($"unknown format '{value}': use auto, xl, libxl, libxc, legacy, back-channel or migrate-receiver"),
    };

    /// <summary>Dialect name as the CLI spells it.</summary>
    public static string DialectName(StreamDialect dialect) => dialect == StreamDialect.PostcopyRfc ? "postcopy-rfc" : "upstream";
}

/// <summary>Runs a command body, mapping errors to exit codes and messages on stderr.</summary>
internal static class CommandRunner
{
    public static int Run(string command, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Formats.StreamFormatException e)
        {
            Console.Error.WriteLine($"{command}: {CommandGuard.Describe(e)}");
            return ExitCodes.InvalidStream;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{command}: {e.Message}");
            return ExitCodes.UsageOrIo;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"{command}: {e.Message}");
            return ExitCodes.UsageOrIo;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"{command}: {e.Message}");
            return ExitCodes.UsageOrIo;
        }
    }
}
