using System.CommandLine;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench generate</c>: writes a synthetic valid stream (tests, corpus, benchmarks).</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var layer = new Option<SyntheticLayer>("--layer") { Description = "libxc, libxl, xl or xlmigratesender", DefaultValueFactory = _ => SyntheticLayer.Libxc };
        var guest = new Option<SyntheticGuest>("--guest") { Description = "pv, pv32, hvm or pvh", DefaultValueFactory = _ => SyntheticGuest.Hvm };
        var pages = new Option<int>("--pages") { Description = "guest pages in the first pass", DefaultValueFactory = _ => 1024 };
        var batch = new Option<int>("--batch") { Description = "pfns per PAGE_DATA record", DefaultValueFactory = _ => LibxcWire.MaxBatchSize };
        var version = new Option<uint>("--stream-version") { Description = "libxc image version (2 or 3)", DefaultValueFactory = _ => 3u };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var checkpoints = new Option<int>("--checkpoints") { Description = "Remus-style checkpoints (0 = plain stream)" };
        var debug = new Option<bool>("--debug-verify") { Description = "add VERIFY and a full resend, as xl migrate --debug" };
        var vcpus = new Option<int>("--vcpus") { DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1ul };
        var output = new Option<string>("--output", "-o") { Description = "output file, or - for stdout", Required = true };
        var command = new Command("generate", "Write a synthetic valid stream of any layer and dialect.")
        {
            layer, guest, pages, batch, version, dialect, checkpoints, debug, vcpus, seed, output,
        };
        command.SetAction(parse =>
        {
            var options = new SyntheticStreamOptions
            {
                Layer = parse.GetValue(layer),
                Guest = parse.GetValue(guest),
                Pages = parse.GetValue(pages),
                BatchSize = parse.GetValue(batch),
                Version = parse.GetValue(version),
                Dialect = CliParsing.ParseDialect(parse.GetValue(dialect)),
                Checkpoints = parse.GetValue(checkpoints),
                DebugVerify = parse.GetValue(debug),
                Vcpus = parse.GetValue(vcpus),
                Seed = parse.GetValue(seed),
            };
            using var stream = CliIo.OpenOutput(parse.GetValue(output)!);
            SyntheticStreams.Write(options, stream);
            return ExitCodes.Ok;
        });
        return command;
    }
}
