using System.CommandLine;
using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Capture.Replay;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench replay</c>: sends one direction of a capture somewhere, sequenced against the peer, with faults.</summary>
internal static class ReplayCommand
{
    /// <summary>Builds the simulated restore engine target, or null while the engine has no restore entry point.</summary>
    internal static Func<Engine.Restore.RestoreOptions, IRestoreEngineEndpoint?> EngineFactory { get; set; } = o => EngineBinding.Create(o);

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
            FaultPlan faults;
            ReplayOptions options;
            CaptureDirection dir;
            try
            {
                dir = CaptureDirections.Parse(parse.GetValue(direction));
                faults = new FaultPlan
                {
                    CutAtByte = parse.GetValue(cutByte) is { } cb ? FaultPlan.ParseNumber(cb, "byte count") : null,
                    CutAtRecord = parse.GetValue(cutRecord) is { } cr ? FaultPlan.ParseNumber(cr, "record") : null,
                    Corruptions = [.. (parse.GetValue(corrupt) ?? []).Select(FaultPlan.ParseCorruption)],
                    Delays = (parse.GetValue(delay) ?? []).Select(FaultPlan.ParseDelay).ToDictionary(d => d.Record, d => d.Milliseconds),
                    Duplicates = (parse.GetValue(duplicate) ?? []).Select(x => FaultPlan.ParseNumber(x, "record")).ToHashSet(),
                    Drops = (parse.GetValue(drop) ?? []).Select(x => FaultPlan.ParseNumber(x, "record")).ToHashSet(),
                };
                options = new ReplayOptions
                {
                    Pace = parse.GetValue(pace) switch
                    {
                        "full" => ReplayPace.Full,
                        "recorded" => ReplayPace.Recorded,
                        var p => throw new ArgumentException($"unknown pace '{p}': use full or recorded"),
                    },
                    Sequencing = parse.GetValue(sequence) switch
                    {
                        "auto" => ReplaySequencing.Auto,
                        "recorded" => ReplaySequencing.Recorded,
                        "protocol" => ReplaySequencing.Protocol,
                        "none" => ReplaySequencing.None,
                        var q => throw new ArgumentException($"unknown sequencing '{q}': use auto, recorded, protocol or none"),
                    },
                    PeerTimeout = TimeSpan.FromSeconds(parse.GetValue(peerTimeout)),
                    FinishTimeout = TimeSpan.FromSeconds(Math.Max(10, parse.GetValue(peerTimeout))),
                    Faults = faults,
                };
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("streambench replay: " + e.Message);
                return ExitCodes.UsageOrIo;
            }
            var targets = new[] { parse.GetValue(output) is not null, parse.GetValue(tcp) is not null, parse.GetValue(toCommand) is not null, parse.GetValue(toEngine) }.Count(x => x);
            if (targets > 1)
            {
                Console.Error.WriteLine("streambench replay: give one target: -o, --to-tcp, --to-command or --to-engine");
                return ExitCodes.UsageOrIo;
            }
            XenStreamReaderOptions readerOptions;
            EngineRole role;
            try
            {
                readerOptions = new XenStreamReaderOptions { Dialect = CliParsing.ParseDialect(parse.GetValue(dialect)) };
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

                role = parse.GetValue(engineColo) ? EngineRole.ColoSecondary
                    : postcopy ? EngineRole.PostcopyDestination : EngineRole.Receiver;
                role = role with { Touches = parse.GetValue(engineTouches), TouchSeed = parse.GetValue(engineTouchSeed) };
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("streambench replay: " + e.Message);
                return ExitCodes.UsageOrIo;
            }

            try
            {
                var restoreOptions = new Engine.Restore.RestoreOptions
                {
                    Guest = parse.GetValue(engineGuest) is { } g ? Domain.GuestTypeExtensions.Parse(g) : null,
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
                if (target is null)
                {
                    Console.Error.WriteLine("streambench replay: the simulated restore engine is not available in this build (StreamBench.Engine has no restore entry point yet)");
                    return ExitCodes.UsageOrIo;
                }
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
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
                or System.Net.Sockets.SocketException or System.ComponentModel.Win32Exception)
            {
                Console.Error.WriteLine("streambench replay: " + e.Message);
                return ExitCodes.UsageOrIo;
            }
        });
        return cmd;
    }

    private static IReplayTarget? OpenTarget(ParseResult parse, Option<string?> output, Option<string?> tcp, Option<string?> toCommand, Option<bool> toEngine,
        Engine.Restore.RestoreOptions restoreOptions, EngineRole role)
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
            return (role.Kind == EngineRoleKind.Receiver ? EngineFactory(restoreOptions) : EngineBinding.Create(restoreOptions, role)) is { } engine
                ? new EngineReplayTarget(engine) : null;
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

/// <summary>What the engine is in a <c>replay --to-engine</c>.</summary>
internal enum EngineRoleKind
{
    /// <summary>An <c>xl migrate</c> receiver (banner, "ready").</summary>
    Receiver,

    /// <summary>A post-copy destination (RFC dialect): faults and POSTCOPY_COMPLETE go back.</summary>
    PostcopyDestination,

    /// <summary>A COLO secondary: SVM_* and CHECKPOINT_DIRTY_PFN_LIST go back.</summary>
    ColoSecondary,
}

/// <summary>The engine's role and, for a post-copy destination, its vCPU (<see cref="Touches"/> 0: it does not run).</summary>
internal sealed record EngineRole(EngineRoleKind Kind, int Touches = 0, ulong TouchSeed = 1)
{
    public static EngineRole Receiver { get; } = new(EngineRoleKind.Receiver);

    public static EngineRole PostcopyDestination { get; } = new(EngineRoleKind.PostcopyDestination);

    public static EngineRole ColoSecondary { get; } = new(EngineRoleKind.ColoSecondary);
}

/// <summary>Binds <c>--to-engine</c> to StreamBench.Engine's restore entry point.</summary>
internal static class EngineBinding
{
    public static IRestoreEngineEndpoint? Create(Engine.Restore.RestoreOptions? options = null, EngineRole? role = null) =>
        new EngineEndpoint(options ?? new Engine.Restore.RestoreOptions(), role ?? EngineRole.Receiver);

    /// <summary>
    /// The simulated restore engine as a replay target. As a receiver it answers like an <c>xl migrate</c> receiver: the
    /// banner first, then "ready" once the stream is in and the domain restored, so a replayed sender side sequences as
    /// it would against a real receiver. As a post-copy destination or a COLO secondary its back channel is the peer's
    /// direction: the replay compares it with the recorded one.
    /// </summary>
    private sealed class EngineEndpoint(Engine.Restore.RestoreOptions options, EngineRole role) : IRestoreEngineEndpoint
    {
        public string Description => role.Kind switch
        {
            EngineRoleKind.PostcopyDestination => "simulated restore engine as a post-copy destination",
            EngineRoleKind.ColoSecondary => "simulated restore engine as a COLO secondary",
            _ => "simulated restore engine",
        };

        public ReplayTargetOutcome Restore(Stream input, Stream backChannel, CancellationToken cancel)
        {
            if (role.Kind == EngineRoleKind.Receiver)
            {
                backChannel.Write(Formats.Wire.XlMigrateProtocol.ReceiverBanner);
                backChannel.Flush();
            }

            using var secondary = role.Kind == EngineRoleKind.ColoSecondary ? new Engine.Restore.ColoSecondary(backChannel) : null;
            using var destination = role.Kind == EngineRoleKind.PostcopyDestination
                ? new Engine.Restore.PostcopyDestination(backChannel,
                    d => role.Touches == 0 ? null : new Engine.Restore.PostcopyGuest(d.DataPfns().ToList(), role.TouchSeed, role.Touches))
                : null;
            try
            {
                var result = Engine.Restore.RestoreEngine.Restore(input, options with { Colo = secondary, Postcopy = destination });
                using var domain = result.Domain;
                string detail = $"restored {result.Records} records";
                if (secondary is not null)
                {
                    detail += $"; {secondary.Checkpoints.Count} COLO checkpoint(s) applied, failover: {secondary.FailoverReason ?? "none"}";
                }
                else if (destination is not null)
                {
                    detail += $"; post-copy: {destination.Arrived} of {destination.Announced} page(s) after the transition, {destination.Faults} fault(s)" +
                        (destination.CompleteSent ? ", POSTCOPY_COMPLETE sent" : "");
                }
                else
                {
                    backChannel.Write(Formats.Wire.XlMigrateProtocol.ReceiverReady);
                    backChannel.Flush();
                }

                return new ReplayTargetOutcome(true, 0, $"{detail}; digest: {domain.ComputeDigest()}");
            }
            catch (Formats.StreamFormatException e)
            {
                return new ReplayTargetOutcome(false, ExitCodes.InvalidStream, e.Message);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // A stream without a domain config needs --memory/--guest/--vcpus, as restore does; a domain refusal.
                return new ReplayTargetOutcome(false, ExitCodes.InvalidStream, e.Message);
            }
        }
    }
}
