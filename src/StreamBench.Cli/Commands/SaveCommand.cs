using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
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
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "The command's options and its action: each branch is one usage rule of the sequences (legacy, post-copy, COLO, back channel) or one line of the report.")]
    public static Command Create()
    {
        var domainOptions = new DomainOptions(guest: null, memory: null, vcpus: 1);
        var policy = new PrecopyPolicyOptions();
        var live = new Option<bool>("--live") { Description = "live pre-copy under the workload, then suspend and send the rest" };
        var workload = new Option<string>("--workload")
        {
            Description = "with --live: uniform, hotset or sequential, optionally :RATE (pages the guest writes per 1024 pages sent; default 32), or none",
            DefaultValueFactory = _ => "hotset",
        };
        var version = new Option<uint>("--stream-version") { Description = "libxc stream version 2 or 3", DefaultValueFactory = _ => 3u };
        var format = new Option<string>("--format", "-f")
        {
            Description = "xl (with a JSON config), libxl, libxc, or legacy (a pre-Xen-4.6 libxc image: PV, PV32 or HVM, non-live)",
            DefaultValueFactory = _ => "xl",
        };
        var legacyWidth = new Option<int>("--legacy-width") { Description = "with -f legacy: the toolstack width, 32 or 64", DefaultValueFactory = _ => 64 };
        var verifyMode = new Option<bool>("--verify-mode") { Description = "with --live: VERIFY, then every page again (xl migrate --debug)" };
        var checkpoints = new Option<int>("--checkpoints") { Description = "a Remus stream with N checkpoints (0: a plain stream)" };
        var output = new Option<string>("--output", "-o") { Description = "output file, or - for stdout (the report then goes to stderr)", Required = true };
        var postcopy = new Option<bool>("--postcopy")
        {
            Description = "a post-copy migration (the RFC dialect, stream v2, live): pre-copy passes, the transition, then the pages the destination faults on and a background push; needs --back-channel",
        };
        var colo = new Option<bool>("--colo") { Description = "a COLO primary (--checkpoints N, libxl or xl): each checkpoint follows the secondary's messages; needs --back-channel" };
        var backChannel = new Option<string?>("--back-channel")
        {
            Description = "with --postcopy or --colo: read the destination's (secondary's) messages from PATH: a recorded back channel, or /dev/null (nobody answers)",
        };
        var command = new Command("save", "Build a simulated domain and save it into a stream; prints the domain's digest last.")
        {
            live, workload, version, format, legacyWidth, verifyMode, checkpoints, output,
            postcopy, colo, backChannel,
        };
        domainOptions.AddTo(command);
        policy.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            TextWriter report = path == "-" ? Console.Error : Console.Out;
            var spec = domainOptions.Spec(parse);
            if (string.Equals(parse.GetValue(format)?.Trim(), "legacy", StringComparison.OrdinalIgnoreCase))
            {
                return SaveLegacy(spec, path, report, parse.GetValue(legacyWidth),
                    parse.GetValue(live) || parse.GetValue(verifyMode) || parse.GetValue(checkpoints) != 0 || parse.GetResult(version) is { Implicit: false });
            }

            bool isPostcopy = parse.GetValue(postcopy), isColo = parse.GetValue(colo);
            string? backPath = parse.GetValue(backChannel);
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

            if (isPostcopy && parse.GetResult(version) is { Implicit: false } && parse.GetValue(version) != 2)
            {
                throw new ArgumentException("--postcopy writes the RFC dialect, which is stream v2");
            }

            using GuestDomain domain = DomainBuilder.Build(spec);
            bool isLive = parse.GetValue(live) || isPostcopy;
            Workload? load = isLive || isColo ? EngineCli.ParseWorkload(parse.GetValue(workload), domain, spec.Seed) : null;
            var options = new SaveOptions
            {
                Live = isLive,
                Workload = load,
                StreamVersion = isPostcopy ? 2 : parse.GetValue(version),
                Format = CliNames.SaveFormats.Parse(parse.GetValue(format)),
                VerifyMode = parse.GetValue(verifyMode),
                Policy = policy.Policy(parse),
                Checkpoints = parse.GetValue(checkpoints),
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

            report.WriteLine($"save: {spec.Type.ToName()}, {spec.Vcpus} vCPU(s), {spec.MemoryMiB} MiB, seed {spec.Seed} -> {path} " +
                $"({options.Format.ToString().ToLowerInvariant()}, stream v{options.StreamVersion}, {(isPostcopy ? "post-copy (RFC dialect)" : isColo ? "COLO primary" : isLive ? "live" : "non-live")})");
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
            report.WriteLine($"digest: {DomainDigest.Compute(domain)}");
            return ExitCodes.Ok;
        });
        return command;
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
