using System.CommandLine;
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
    public static Command Create()
    {
        var o = new Options();
        var cmd = new Command("replay", "Replay one direction of a capture to a file, stdout, a TCP endpoint, a command or the simulated restore engine.")
        {
            o.Input, o.Direction, o.Output, o.Tcp, o.ToCommand, o.ToEngine, o.Pace, o.Sequence, o.PeerTimeout, o.PeerOutput,
            o.CutByte, o.CutRecord, o.Corrupt, o.Delay, o.Duplicate, o.Drop, o.Dialect, o.Quiet, o.Readable, o.EngineGuest, o.EngineMemory, o.EngineVcpus,
            o.EngineColo, o.EngineTouches, o.EngineTouchSeed,
        };
        cmd.SetAction(parse => Run(parse, o));
        return cmd;
    }

    /// <summary>The command's options and arguments.</summary>
    private sealed class Options
    {
        public Argument<string> Input { get; } = new("input") { Description = "capture file (or a plain stream file)" };
        public Option<string> Direction { get; } = new("--direction") { Description = "s2r or r2s", DefaultValueFactory = _ => "s2r" };
        public Option<string?> Output { get; } = new("--output", "-o") { Description = "write to a file, or - for standard output (the default)" };
        public Option<string?> Tcp { get; } = new("--to-tcp") { Description = "connect to HOST:PORT and send there" };
        public Option<string?> ToCommand { get; } = new("--to-command") { Description = "run a command (sh -c) and send to its stdin; its stdout is the peer" };
        public Option<bool> ToEngine { get; } = new("--to-engine") { Description = "restore into the simulated restore engine" };
        public Option<string> Pace { get; } = new("--pace") { Description = "full (default) or recorded", DefaultValueFactory = _ => "full" };
        public Option<string> Sequence { get; } = new("--sequence") { Description = "auto, recorded, protocol or none", DefaultValueFactory = _ => "auto" };
        public Option<double> PeerTimeout { get; } = new("--peer-timeout") { Description = "seconds to wait for the peer at each step", DefaultValueFactory = _ => 120 };
        public Option<string?> PeerOutput { get; } = new("--peer-output") { Description = "save what the peer sent to this file" };
        public Option<string?> CutByte { get; } = new("--cut-at-byte") { Description = "the target receives exactly N bytes" };
        public Option<string?> CutRecord { get; } = new("--cut-at-record") { Description = "stop right before record N (0-based)" };
        public Option<string[]> Corrupt { get; } = new("--corrupt") { Description = "XOR the byte at OFFSET with XORBYTE (default 0xff); repeatable", AllowMultipleArgumentsPerToken = false };
        public Option<string[]> Delay { get; } = new("--delay-record") { Description = "N:MS pause before record N; repeatable" };
        public Option<string[]> Duplicate { get; } = new("--duplicate-record") { Description = "send record N twice; repeatable" };
        public Option<string[]> Drop { get; } = new("--drop-record") { Description = "do not send record N; repeatable" };
        public Option<string> Dialect { get; } = new("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "no report on standard error" };
        public Option<bool> Readable { get; } = new("--replay-readable") { Description = "replay what is readable of a damaged or unfinished capture (refused otherwise, exit 1)" };
        public Option<string?> EngineGuest { get; } = new("--guest") { Description = "--to-engine: pv, pv32, hvm or pvh (for streams without an xl config, as restore)" };
        public Option<string?> EngineMemory { get; } = new("--memory", "-m") { Description = "--to-engine: guest RAM, e.g. 256M (as restore)" };
        public Option<int?> EngineVcpus { get; } = new("--vcpus") { Description = "--to-engine: vCPUs (as restore)" };
        public Option<bool> EngineColo { get; } = new("--colo") { Description = "--to-engine: the engine is a COLO secondary (idle guest); its messages go back to the replay as the peer" };
        public Option<int> EngineTouches { get; } = new("--touches")
        {
            Description = "--to-engine --dialect postcopy-rfc: the destination's vCPU touches this many pages after the transition (as restore --touches; the recorded session's count reproduces its faults)",
        };
        public Option<ulong> EngineTouchSeed { get; } = new("--touch-seed") { Description = "--to-engine: seed of the vCPU's touches (as restore)", DefaultValueFactory = _ => 1ul };
    }

    private static int Run(ParseResult parse, Options o)
    {
        CaptureDirection dir = CliNames.Directions.Parse(parse.GetValue(o.Direction));
        FaultPlan faults = Faults(parse, o);
        var options = new ReplayOptions
        {
            Pace = CliNames.Paces.Parse(parse.GetValue(o.Pace)),
            Sequencing = CliNames.Sequencings.Parse(parse.GetValue(o.Sequence)),
            PeerTimeout = TimeSpan.FromSeconds(parse.GetValue(o.PeerTimeout)),
            FinishTimeout = TimeSpan.FromSeconds(Math.Max(10, parse.GetValue(o.PeerTimeout))),
            Faults = faults,
        };
        var readerOptions = new XenStreamReaderOptions { Dialect = CliNames.Dialects.Parse(parse.GetValue(o.Dialect)) };
        ReceiverRole role = Role(parse, o, readerOptions.Dialect == StreamDialect.PostcopyRfc);
        var restoreOptions = new RestoreOptions
        {
            Guest = parse.GetValue(o.EngineGuest) is { } g ? CliNames.Guests.Parse(g) : null,
            MemoryPages = parse.GetValue(o.EngineMemory) is { } m ? EngineCli.ParseMemoryPages(m) : null,
            Vcpus = parse.GetValue(o.EngineVcpus),
            Reader = readerOptions,
        };
        using var replayInput = ReplayInput.Open(parse.GetValue(o.Input)!, dir, dir == CaptureDirection.SenderToReceiver ? readerOptions : null, parse.GetValue(o.Readable));
        faults.CheckWithin(replayInput.Length);
        if (replayInput.Damage is { } damage)
        {
            Console.Error.WriteLine("streambench replay: warning: replaying what is readable of a damaged capture: " + damage);
        }

        using var target = OpenTarget(parse, o, restoreOptions, role);
        var result = Replayer.Run(replayInput, target, options);
        if (parse.GetValue(o.PeerOutput) is { } po)
        {
            File.WriteAllBytes(po, result.PeerReceived);
        }

        if (!parse.GetValue(o.Quiet))
        {
            Report(replayInput, target, faults, result);
        }

        return result.Succeeded && replayInput.Damage is null ? ExitCodes.Ok : ExitCodes.InvalidStream;
    }

    private static FaultPlan Faults(ParseResult parse, Options o) => new()
    {
        CutAtByte = parse.GetValue(o.CutByte) is { } cb ? FaultPlan.ParseNumber(cb, "byte count") : null,
        CutAtRecord = parse.GetValue(o.CutRecord) is { } cr ? FaultPlan.ParseNumber(cr, "record") : null,
        Corruptions = [.. (parse.GetValue(o.Corrupt) ?? []).Select(FaultPlan.ParseCorruption)],
        Delays = (parse.GetValue(o.Delay) ?? []).Select(FaultPlan.ParseDelay).ToDictionary(d => d.Record, d => d.Milliseconds),
        Duplicates = (parse.GetValue(o.Duplicate) ?? []).Select(x => FaultPlan.ParseNumber(x, "record")).ToHashSet(),
        Drops = (parse.GetValue(o.Drop) ?? []).Select(x => FaultPlan.ParseNumber(x, "record")).ToHashSet(),
    };

    /// <summary>The usage rules (one target; --colo and --touches only with --to-engine and their dialect), then the engine's role.</summary>
    private static ReceiverRole Role(ParseResult parse, Options o, bool postcopy)
    {
        var targets = new[] { parse.GetValue(o.Output) is not null, parse.GetValue(o.Tcp) is not null, parse.GetValue(o.ToCommand) is not null, parse.GetValue(o.ToEngine) }.Count(x => x);
        if (targets > 1)
        {
            throw new ArgumentException("give one target: -o, --to-tcp, --to-command or --to-engine");
        }

        bool colo = parse.GetValue(o.EngineColo);
        int touches = parse.GetValue(o.EngineTouches);
        if ((colo || touches != 0) && !parse.GetValue(o.ToEngine))
        {
            throw new ArgumentException("--colo and --touches are for --to-engine");
        }

        if (colo && postcopy)
        {
            throw new ArgumentException("--colo and --dialect postcopy-rfc are two different sequences: give one");
        }

        if (touches < 0 || touches > 0 && !postcopy)
        {
            throw new ArgumentException("--touches N (N >= 0) runs a post-copy destination's vCPU: it needs --dialect postcopy-rfc");
        }

        return new ReceiverRole(colo ? ReceiverRoleKind.ColoSecondary : postcopy ? ReceiverRoleKind.PostcopyDestination : ReceiverRoleKind.Receiver,
            touches, parse.GetValue(o.EngineTouchSeed));
    }

    private static IReplayTarget OpenTarget(ParseResult parse, Options o, RestoreOptions restoreOptions, ReceiverRole role)
    {
        if (parse.GetValue(o.Tcp) is { } endpoint)
        {
            return new TcpReplayTarget(endpoint);
        }
        if (parse.GetValue(o.ToCommand) is { } command)
        {
            return new ProcessReplayTarget(command);
        }
        if (parse.GetValue(o.ToEngine))
        {
            return new EngineReplayTarget(EngineBinding.Create(restoreOptions, role));
        }
        var path = parse.GetValue(o.Output) ?? "-";
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
