using System.CommandLine;
using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary>The input argument and the --format/--dialect options every stream-reading command shares.</summary>
internal sealed class StreamOptions
{
    public Argument<string> Input { get; } = new("input") { Description = "stream file, or - for standard input" };

    public Option<string> Format { get; } = new("--format", "-f")
    {
        Description = "outer layer: " + CliNames.Formats.Choices,
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
        Width = CliNames.LegacyWidths.Parse(parse.GetValue(LegacyWidth)),
        GuestType = CliNames.LegacyGuests.Parse(parse.GetValue(LegacyGuest)),
    };

    /// <summary>Opens the input through the one input seam (zstd, captures, legacy detection).</summary>
    public OpenedInput Open(ParseResult parse) => StreamInputs.Open(parse.GetValue(Input)!, new StreamInputOptions
    {
        Format = CliNames.Formats.Parse(parse.GetValue(Format)),
        Direction = CliNames.Directions.Parse(parse.GetValue(Direction)),
    });

    /// <summary>
    /// Opens the input, verifies it (a legacy image through the legacy verification) with progress on the console
    /// under <paramref name="label"/>, and closes it: what <c>verify</c> and <c>inspect</c> print from.
    /// </summary>
    public VerifiedInput Verify(ParseResult parse, VerifierOptions options, string label)
    {
        using var input = Open(parse);
        using (new Progress(input.Source, label))
        {
            var result = StreamInputs.Verify(input, LegacyOptions(parse), options);
            return new VerifiedInput(input.Description, result, InputLength.OfLegacy(input));
        }
    }

    public XenStreamReaderOptions ReaderOptions(ParseResult parse) => new()
    {
        Format = CliNames.Formats.Parse(parse.GetValue(Format)),
        Dialect = CliNames.Dialects.Parse(parse.GetValue(Dialect)),
        Colo = parse.GetValue(Colo),
    };
}

/// <summary>A verified input: its description, the verifier's result, and its length if it was a legacy image.</summary>
internal sealed record VerifiedInput(string Path, VerifyResult Result, long? LegacyLength);
