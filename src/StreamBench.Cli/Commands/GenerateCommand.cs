using System.CommandLine;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench generate</c>: writes a synthetic valid stream (tests, corpus, benchmarks).</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var layer = new Option<string>("--layer") { Description = CliNames.SyntheticLayers.Choices, DefaultValueFactory = _ => "libxc" };
        var guest = new Option<string>("--guest") { Description = CliNames.SyntheticGuests.Choices, DefaultValueFactory = _ => "hvm" };
        var pages = new Option<int>("--pages") { Description = "guest pages in the first pass", DefaultValueFactory = _ => 1024 };
        var batch = new Option<int>("--batch") { Description = "pfns per PAGE_DATA record", DefaultValueFactory = _ => LibxcWire.MaxBatchSize };
        var version = new Option<uint>("--stream-version") { Description = "libxc image version (2 or 3)", DefaultValueFactory = _ => 3u };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var checkpoints = new Option<int>("--checkpoints") { Description = "Remus-style checkpoints (0 = plain stream)" };
        var debug = new Option<bool>("--debug-verify") { Description = "add VERIFY and a full resend, as xl migrate --debug" };
        var vcpus = new Option<int>("--vcpus") { DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1ul };
        var xtab = new Option<int>("--xtab-every") { Description = "send every n-th pfn as XTAB (0 = none)" };
        var failover = new Option<bool>("--no-end") { Description = "checkpointed streams: stop at failover without END (default: END after the last checkpoint)" };
        var partial = new Option<bool>("--partial-checkpoint") { Description = "with --no-end: leave a half-sent checkpoint at failover" };
        var colo = new Option<bool>("--colo") { Description = "checkpointed libxl streams: a COLO CHECKPOINT_STATE after each CHECKPOINT_END" };
        var xenstore = new Option<bool>("--xenstore-data") { Description = "HVM libxl streams: add EMULATOR_XENSTORE_DATA" };
        var backChannel = new Option<string?>("--back-channel")
        {
            Description = "write the other direction instead: migrate-receiver (xl migrate receiver's replies), colo (COLO back channel), postcopy (RFC faults)",
        };
        var output = new Option<string>("--output", "-o") { Description = "output file, or - for stdout", Required = true };
        var command = new Command("generate",
            "Write a synthetic stream of any layer and dialect: valid by every verify profile, but not the save of a real domain "
            + "(its pages and CPU state are random, so restore refuses it); use 'save' for a stream that restores.")
        {
            layer, guest, pages, batch, version, dialect, checkpoints, debug, vcpus, seed, xtab, failover, partial, colo, xenstore, backChannel, output,
        };
        command.SetAction(parse =>
        {
            Require(parse.GetValue(pages) > 0, $"--pages must be at least 1, not {parse.GetValue(pages)}");
            Require(parse.GetValue(batch) is > 0 and <= LibxcWire.MaxBatchSize, $"--batch takes 1 to {LibxcWire.MaxBatchSize}, not {parse.GetValue(batch)}");
            Require(parse.GetValue(version) is 2 or 3, $"--stream-version takes 2 or 3, not {parse.GetValue(version)}");
            Require(parse.GetValue(vcpus) > 0, $"--vcpus must be at least 1, not {parse.GetValue(vcpus)}");
            Require(parse.GetValue(checkpoints) >= 0, $"--checkpoints cannot be negative ({parse.GetValue(checkpoints)})");
            Require(parse.GetValue(xtab) >= 0, $"--xtab-every cannot be negative ({parse.GetValue(xtab)})");
            var options = new SyntheticStreamOptions
            {
                Layer = CliNames.SyntheticLayers.Parse(parse.GetValue(layer)),
                Guest = CliNames.SyntheticGuests.Parse(parse.GetValue(guest)),
                Pages = parse.GetValue(pages),
                BatchSize = parse.GetValue(batch),
                Version = parse.GetValue(version),
                Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)),
                Checkpoints = parse.GetValue(checkpoints),
                DebugVerify = parse.GetValue(debug),
                Vcpus = parse.GetValue(vcpus),
                Seed = parse.GetValue(seed),
                XtabEvery = parse.GetValue(xtab),
                EndAtFailover = parse.GetValue(failover),
                PartialCheckpointAtFailover = parse.GetValue(partial),
                XenstoreData = parse.GetValue(xenstore),
                Colo = parse.GetValue(colo),
            };
            using var stream = CliIo.OpenOutput(parse.GetValue(output)!);
            switch (parse.GetValue(backChannel))
            {
                case null or "":
                    SyntheticStreams.Write(options, stream);
                    break;
                case "migrate-receiver":
                    stream.Write(SyntheticStreams.MigrateReceiverSide());
                    break;
                case "colo":
                    stream.Write(SyntheticStreams.ColoBackChannel(Math.Max(1, options.Checkpoints)));
                    break;
                case "postcopy":
                    stream.Write(SyntheticStreams.PostcopyBackChannel(Math.Max(1, options.Pages / 16)));
                    break;
                default:
                    Console.Error.WriteLine("generate: --back-channel takes migrate-receiver, colo or postcopy");
                    return ExitCodes.UsageOrIo;
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}
