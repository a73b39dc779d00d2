using System.CommandLine;
using System.Globalization;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Save;
using StreamBench.Formats.Legacy;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>streambench save</c>: builds a simulated domain and saves it (non-live, or live under a workload) into a
/// stream. The report goes to stdout and its last line is <c>digest: &lt;64 hex&gt;</c>, the source domain's digest
/// (the state the stream carries); with <c>-o -</c> the stream goes to stdout and the report to stderr.
/// </summary>
internal static class SaveCommand
{
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("save", "Build a simulated domain and save it into a stream; prints the domain's digest last.")
        {
            o.Live, o.Workload, o.Version, o.Format, o.LegacyWidth, o.VerifyMode, o.Checkpoints, o.Output,
            o.Postcopy, o.Colo, o.BackChannel,
        };
        o.Domain.AddTo(command);
        o.Policy.AddTo(command);
        command.SetAction(parse => Run(parse, o));
        return command;
    }

    /// <summary>The command's options.</summary>
    private sealed class Options
    {
        public DomainOptions Domain { get; } = new(guest: null, memory: null, vcpus: 1);
        public PrecopyPolicyOptions Policy { get; } = new();
        public Option<bool> Live { get; } = new("--live") { Description = "live pre-copy under the workload, then suspend and send the rest" };
        public Option<string> Workload { get; } = new("--workload")
        {
            Description = "with --live: uniform, hotset or sequential, optionally :RATE (pages the guest writes per 1024 pages sent; default 32), or none",
            DefaultValueFactory = _ => "hotset",
        };
        public Option<uint> Version { get; } = new("--stream-version") { Description = "libxc stream version 2 or 3", DefaultValueFactory = _ => 3u };
        public Option<string> Format { get; } = new("--format", "-f")
        {
            Description = "xl (with a JSON config), libxl, libxc, or legacy (a pre-Xen-4.6 libxc image: PV, PV32 or HVM, non-live)",
            DefaultValueFactory = _ => "xl",
        };
        public Option<int> LegacyWidth { get; } = new("--legacy-width") { Description = "with -f legacy: the toolstack width, 32 or 64", DefaultValueFactory = _ => 64 };
        public Option<bool> VerifyMode { get; } = new("--verify-mode") { Description = "with --live: VERIFY, then every page again (xl migrate --debug)" };
        public Option<int> Checkpoints { get; } = new("--checkpoints") { Description = "a Remus stream with N checkpoints (0: a plain stream)" };
        public Option<string> Output { get; } = new("--output", "-o") { Description = "output file, or - for stdout (the report then goes to stderr)", Required = true };
        public Option<bool> Postcopy { get; } = new("--postcopy")
        {
            Description = "a post-copy migration (the RFC dialect, stream v2, live): pre-copy passes, the transition, then the pages the destination faults on and a background push; needs --back-channel",
        };
        public Option<bool> Colo { get; } = new("--colo") { Description = "a COLO primary (--checkpoints N, libxl or xl): each checkpoint follows the secondary's messages; needs --back-channel" };
        public Option<string?> BackChannel { get; } = new("--back-channel")
        {
            Description = "with --postcopy or --colo: read the destination's (secondary's) messages from PATH: a recorded back channel, or /dev/null (nobody answers)",
        };
    }

    private static int Run(ParseResult parse, Options o)
    {
        string path = parse.GetValue(o.Output)!;
        TextWriter report = path == "-" ? Console.Error : Console.Out;
        var spec = o.Domain.Spec(parse);
        if (string.Equals(parse.GetValue(o.Format)?.Trim(), "legacy", StringComparison.OrdinalIgnoreCase))
        {
            return SaveLegacy(spec, path, report, parse.GetValue(o.LegacyWidth),
                parse.GetValue(o.Live) || parse.GetValue(o.VerifyMode) || parse.GetValue(o.Checkpoints) != 0 || parse.GetResult(o.Version) is { Implicit: false });
        }

        bool isPostcopy = parse.GetValue(o.Postcopy), isColo = parse.GetValue(o.Colo);
        string? backPath = parse.GetValue(o.BackChannel);
        CheckSequence(isPostcopy, isColo, backPath, parse.GetResult(o.Version) is { Implicit: false } && parse.GetValue(o.Version) != 2);
        using GuestDomain domain = DomainBuilder.Build(spec);
        bool isLive = parse.GetValue(o.Live) || isPostcopy;
        Workload? load = isLive || isColo ? EngineCli.ParseWorkload(parse.GetValue(o.Workload), domain, spec.Seed) : null;
        var options = new SaveOptions
        {
            Live = isLive,
            Workload = load,
            StreamVersion = isPostcopy ? 2 : parse.GetValue(o.Version),
            Format = CliNames.SaveFormats.Parse(parse.GetValue(o.Format)),
            VerifyMode = parse.GetValue(o.VerifyMode),
            Policy = o.Policy.Policy(parse),
            Checkpoints = parse.GetValue(o.Checkpoints),
            CheckpointEnding = isColo ? CheckpointEnding.Failover : new SaveOptions().CheckpointEnding,
            RecordCheckpointDigests = isColo,
        };
        if (path == "-")
        {
            StreamBench.Formats.Streams.PipeTuning.Enlarge(1); // fewer wake-ups when the stream goes into a pipe
        }

        SaveResult result;
        PostcopySource? postcopySource = null;
        ColoPrimary? coloPrimary = null;
        // The back channel first, then the main stream, and nothing read or written before both are open: restore
        // opens them in the same order. Two FIFOs between the processes pair up one at a time (an open blocks until
        // the peer opens the other end); with the main stream first, restore would read the stream's head while
        // this side waits to open the back channel, and both would wait for ever.
        using (Stream? back = backPath is null ? null : CliIo.OpenBackChannel(backPath, write: false))
        using (Stream stream = CliIo.OpenOutput(path))
        {
            postcopySource = isPostcopy ? new PostcopySource(back!) : null;
            coloPrimary = isColo ? new ColoPrimary(back!) : null;
            options = options with { Postcopy = postcopySource, Colo = coloPrimary };
            options.Validate();
            try
            {
                result = SaveEngine.Save(domain, stream, options);
            }
            finally
            {
                postcopySource?.Dispose();
                coloPrimary?.Dispose();
            }
        }

        string sequence = isPostcopy ? "post-copy (RFC dialect)" : isColo ? "COLO primary" : isLive ? "live" : "non-live";
        report.WriteLine($"save: {spec.Type.ToName()}, {spec.Vcpus} vCPU(s), {spec.MemoryMiB} MiB, seed {spec.Seed} -> {path} " +
            $"({options.Format.ToString().ToLowerInvariant()}, stream v{options.StreamVersion}, {sequence})");
        Report(report, result, postcopySource, coloPrimary);
        report.WriteLine($"digest: {DomainDigest.Compute(domain)}");
        return ExitCodes.Ok;
    }

    /// <summary>The usage rules of the sequences (post-copy, COLO, back channel).</summary>
    private static void CheckSequence(bool isPostcopy, bool isColo, string? backPath, bool versionOtherThan2)
    {
        if (isPostcopy && isColo)
        {
            throw new ArgumentException("--postcopy and --colo are two different sequences: give one");
        }

        if ((isPostcopy || isColo) != backPath is not null)
        {
            throw new ArgumentException(backPath is null
                ? $"--{(isPostcopy ? "postcopy" : "colo")} needs --back-channel PATH: the {(isPostcopy ? "destination's faults" : "secondary's messages")} (a recorded back channel, or /dev/null: nobody answers)"
                : "--back-channel is for --postcopy or --colo");
        }

        if (isPostcopy && versionOtherThan2)
        {
            throw new ArgumentException("--postcopy writes the RFC dialect, which is stream v2");
        }
    }

    /// <summary>The report's lines after the first, up to the digest.</summary>
    private static void Report(TextWriter report, SaveResult result, PostcopySource? postcopySource, ColoPrimary? coloPrimary)
    {
        EngineCli.WritePasses(report, result);
        if (postcopySource is { } pc)
        {
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  post-copy: {pc.Announced} page(s) after the transition ({pc.PagesOnFault} on fault, {pc.PagesBackground} in the background), {pc.FaultsReceived} fault(s) received ({pc.FaultsDropped} dropped as repeats), " +
                $"{(pc.CompleteReceived ? "the destination confirmed (POSTCOPY_COMPLETE)" : "no POSTCOPY_COMPLETE")}{(pc.DestinationError is { } why ? $"; destination: {why}" : "")}"));
        }

        if (coloPrimary is { } cp)
        {
            foreach (ColoPrimaryCheckpoint c in cp.Checkpoints)
            {
                report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  checkpoint {c.Index}: {c.PfnsSent} pfns sent ({c.PrimaryDirtyPfns} dirtied by the primary, {c.SecondaryDirtyPfns} by the secondary), digest at suspend: {c.Digest}"));
            }

            report.WriteLine(cp.SecondaryLost is { } lost ? $"  the secondary was lost ({lost}): the primary goes on alone" : "  the primary stops: the secondary takes over");
        }
        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bytes: {result.Bytes}, records: {result.Records}, time: {result.Elapsed.TotalSeconds:F3} s, throughput: {EngineCli.Rate(result.Bytes, result.Elapsed)}"));
    }

    // -f legacy: a non-live save into a legacy (pre-4.6) libxc image (docs/LEGACY.md 6).
    private static int SaveLegacy(DomainSpec spec, string path, TextWriter report, int width, bool v2Options)
    {
        if (v2Options)
        {
            throw new ArgumentException("-f legacy writes a non-live, single image: --live, --verify-mode, --checkpoints and --stream-version do not apply");
        }

        if (width is not (32 or 64))
        {
            throw new ArgumentException($"--legacy-width {width}: use 32 or 64");
        }

        using GuestDomain domain = DomainBuilder.Build(spec);
        var options = new LegacySaveOptions { Width = width == 32 ? LegacyWidth.Bits32 : LegacyWidth.Bits64 };
        if (path == "-")
        {
            StreamBench.Formats.Streams.PipeTuning.Enlarge(1);
        }

        LegacySaveResult result;
        using (Stream stream = CliIo.OpenOutput(path))
        {
            result = LegacySave.Save(domain, stream, options);
        }

        report.WriteLine($"save: {spec.Type.ToName()}, {spec.Vcpus} vCPU(s), {spec.MemoryMiB} MiB, seed {spec.Seed} -> {path} (legacy, {width}-bit toolstack, non-live)");
        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  p2m_size 0x{result.P2mSize:x}: {result.Batches} batches, {result.Pfns} pfns, {result.DataPages} pages of data, {result.NormalisedPages} page tables normalised"));
        foreach (string lost in result.NotCarried)
        {
            report.WriteLine($"  not carried by the legacy format: {lost}");
        }

        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bytes: {result.Bytes}, time: {result.Elapsed.TotalSeconds:F3} s, throughput: {EngineCli.Rate(result.Bytes, result.Elapsed)}"));
        report.WriteLine($"digest: {DomainDigest.Compute(domain)}");
        return ExitCodes.Ok;
    }
}
