using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Capture.Replay;
using StreamBench.Engine.Restore;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench replay</c>: sends one direction of a capture somewhere, sequenced against the peer, with faults.</summary>
internal static class ReplayCommand
{
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "The command's options and its action: each branch of the action is one usage rule (one target; --colo and --touches only with --to-engine and their dialect).")]
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "capture file (or a plain stream file)" };
        var direction = new Option<string>("--direction") { Description = "s2r or r2s", DefaultValueFactory = _ => "s2r" };
        var output = new Option<string?>("--output", "-o") { Description = "write to a file, or - for standard output (the default)" };
        var tcp = new Option<string?>("--to-tcp") { Description = "connect to HOST:PORT and send there" };
        var toCommand = new Option<string?>("--to-command") { Description = "run a command (sh -c) and send to its stdin; its stdout is the peer" };
        var toEngine = new Option<bool>("--to-engine") { Description = "restore into the simulated restore engine" };
        var pace = new Option<string>("--pace") { Description = "full (default) or recorded", DefaultValueFactory = _ => "full" };
        var sequence = new Option<string>("--sequence") { Description = "auto, recorded, protocol or none", DefaultValueFactory = _ => "auto" };
        var peerTimeout = new Option<double>("--peer-timeout") { Description = "seconds to wait for the peer at each step", DefaultValueFactory = _ => 120 };
        var peerOutput = new Option<string?>("--peer-output") { Description = "save what the peer sent to this file" };
        var cutByte = new Option<string?>("--cut-at-byte") { Description = "the target receives exactly N bytes" };
        var cutRecord = new Option<string?>("--cut-at-record") { Description = "stop right before record N (0-based)" };
        var corrupt = new Option<string[]>("--corrupt") { Description = "XOR the byte at OFFSET with XORBYTE (default 0xff); repeatable", AllowMultipleArgumentsPerToken = false };
        var delay = new Option<string[]>("--delay-record") { Description = "N:MS pause before record N; repeatable" };
        var duplicate = new Option<string[]>("--duplicate-record") { Description = "send record N twice; repeatable" };
        var drop = new Option<string[]>("--drop-record") { Description = "do not send record N; repeatable" };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no report on standard error" };
        var readable = new Option<bool>("--replay-readable") { Description = "replay what is readable of a damaged or unfinished capture (refused otherwise, exit 1)" };
        var engineGuest = new Option<string?>("--guest") { Description = "--to-engine: pv, pv32, hvm or pvh (for streams without an xl config, as restore)" };
        var engineMemory = new Option<string?>("--memory", "-m") { Description = "--to-engine: guest RAM, e.g. 256M (as restore)" };
        var engineVcpus = new Option<int?>("--vcpus") { Description = "--to-engine: vCPUs (as restore)" };
        var engineColo = new Option<bool>("--colo") { Description = "--to-engine: the engine is a COLO secondary (idle guest); its messages go back to the replay as the peer" };
        var engineTouches = new Option<int>("--touches")
        {
            Description = "--to-engine --dialect postcopy-rfc: the destination's vCPU touches this many pages after the transition (as restore --touches; the recorded session's count reproduces its faults)",
        };
        var engineTouchSeed = new Option<ulong>("--touch-seed") { Description = "--to-engine: seed of the vCPU's touches (as restore)", DefaultValueFactory = _ => 1ul };
        var cmd = new Command("replay", "Replay one direction of a capture to a file, stdout, a TCP endpoint, a command or the simulated restore engine.")
        {
            input, direction, output, tcp, toCommand, toEngine, pace, sequence, peerTimeout, peerOutput,
            cutByte, cutRecord, corrupt, delay, duplicate, drop, dialect, quiet, readable, engineGuest, engineMemory, engineVcpus,
            engineColo, engineTouches, engineTouchSeed,
        };
        cmd.SetAction(parse =>
        {
            CaptureDirection dir = CliNames.Directions.Parse(parse.GetValue(direction));
            var faults = new FaultPlan
            {
                CutAtByte = parse.GetValue(cutByte) is { } cb ? FaultPlan.ParseNumber(cb, "byte count") : null,
                CutAtRecord = parse.GetValue(cutRecord) is { } cr ? FaultPlan.ParseNumber(cr, "record") : null,
                Corruptions = [.. (parse.GetValue(corrupt) ?? []).Select(FaultPlan.ParseCorruption)],
                Delays = (parse.GetValue(delay) ?? []).Select(FaultPlan.ParseDelay).ToDictionary(d => d.Record, d => d.Milliseconds),
                Duplicates = (parse.GetValue(duplicate) ?? []).Select(x => FaultPlan.ParseNumber(x, "record")).ToHashSet(),
                Drops = (parse.GetValue(drop) ?? []).Select(x => FaultPlan.ParseNumber(x, "record")).ToHashSet(),
            };
            var options = new ReplayOptions
            {
                Pace = CliNames.Paces.Parse(parse.GetValue(pace)),
                Sequencing = CliNames.Sequencings.Parse(parse.GetValue(sequence)),
                PeerTimeout = TimeSpan.FromSeconds(parse.GetValue(peerTimeout)),
                FinishTimeout = TimeSpan.FromSeconds(Math.Max(10, parse.GetValue(peerTimeout))),
                Faults = faults,
            };
            var targets = new[] { parse.GetValue(output) is not null, parse.GetValue(tcp) is not null, parse.GetValue(toCommand) is not null, parse.GetValue(toEngine) }.Count(x => x);
            if (targets > 1)
            {
                throw new ArgumentException("give one target: -o, --to-tcp, --to-command or --to-engine");
            }

            var readerOptions = new XenStreamReaderOptions { Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)) };
            bool postcopy = readerOptions.Dialect == StreamDialect.PostcopyRfc;
            if ((parse.GetValue(engineColo) || parse.GetValue(engineTouches) != 0) && !parse.GetValue(toEngine))
            {
                throw new ArgumentException("--colo and --touches are for --to-engine");
            }

            if (parse.GetValue(engineColo) && postcopy)
            {
                throw new ArgumentException("--colo and --dialect postcopy-rfc are two different sequences: give one");
            }

            if (parse.GetValue(engineTouches) is var n && (n < 0 || n > 0 && !postcopy))
            {
                throw new ArgumentException("--touches N (N >= 0) runs a post-copy destination's vCPU: it needs --dialect postcopy-rfc");
            }

            var role = new ReceiverRole(parse.GetValue(engineColo) ? ReceiverRoleKind.ColoSecondary
                : postcopy ? ReceiverRoleKind.PostcopyDestination : ReceiverRoleKind.Receiver,
                parse.GetValue(engineTouches), parse.GetValue(engineTouchSeed));
            var restoreOptions = new RestoreOptions
            {
                Guest = parse.GetValue(engineGuest) is { } g ? CliNames.Guests.Parse(g) : null,
                MemoryPages = parse.GetValue(engineMemory) is { } m ? EngineCli.ParseMemoryPages(m) : null,
                Vcpus = parse.GetValue(engineVcpus),
                Reader = readerOptions,
            };
            using var replayInput = ReplayInput.Open(parse.GetValue(input)!, dir, dir == CaptureDirection.SenderToReceiver ? readerOptions : null, parse.GetValue(readable));
            faults.CheckWithin(replayInput.Length);
            if (replayInput.Damage is { } damage)
            {
                Console.Error.WriteLine("streambench replay: warning: replaying what is readable of a damaged capture: " + damage);
            }

            using var target = OpenTarget(parse, output, tcp, toCommand, toEngine, restoreOptions, role);
            var result = Replayer.Run(replayInput, target, options);
            if (parse.GetValue(peerOutput) is { } po)
            {
                File.WriteAllBytes(po, result.PeerReceived);
            }

            if (!parse.GetValue(quiet))
            {
                Report(replayInput, target, faults, result);
            }

            return result.Succeeded && replayInput.Damage is null ? ExitCodes.Ok : ExitCodes.InvalidStream;
        });
        return cmd;
    }

    private static IReplayTarget OpenTarget(ParseResult parse, Option<string?> output, Option<string?> tcp, Option<string?> toCommand, Option<bool> toEngine,
        RestoreOptions restoreOptions, ReceiverRole role)
    {
        if (parse.GetValue(tcp) is { } endpoint)
        {
            return new TcpReplayTarget(endpoint);
        }
        if (parse.GetValue(toCommand) is { } command)
        {
            return new ProcessReplayTarget(command);
        }
        if (parse.GetValue(toEngine))
        {
            return new EngineReplayTarget(EngineBinding.Create(restoreOptions, role));
        }
        var path = parse.GetValue(output) ?? "-";
        return new StreamReplayTarget(CliIo.OpenOutput(path), path == "-" ? "standard output" : path);
    }

    private static void Report(ReplayInput input, IReplayTarget target, FaultPlan faults, ReplayResult r)
    {
        var e = Console.Error;
        e.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"streambench replay: {input.Description} -> {target.Description}: sent {r.BytesSent} of {input.Length} bytes in {r.Duration.TotalMilliseconds:0} ms; faults: {faults}; sequencing: {r.Script.Mode} ({r.Script.Gates.Count} waits)"));
        if (r.Script.Mode != ReplaySequencing.None || r.PeerBytes > 0)
        {
            var diverged = r.PeerDivergedAt is { } d ? string.Create(CultureInfo.InvariantCulture, $", differs from the recorded peer from byte {d}") : ", as recorded";
            e.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  peer sent {r.PeerBytes} bytes{(r.Script.ExpectedPeer.Length > 0 ? diverged : "")}"));
        }
        if (r.MigrateResult is { } m)
        {
            e.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  xl migrate report: result {m}"));
        }
        if (r.Stopped is not null)
        {
            e.WriteLine("  stopped: " + r.Stopped);
        }
        e.WriteLine("  target: " + r.Target.Detail);
    }
}
