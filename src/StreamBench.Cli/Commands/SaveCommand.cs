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
        var guest = new Option<string>("--guest") { Description = "pv, pv32, hvm or pvh", Required = true };
        var memory = new Option<string>("--memory", "-m") { Description = "guest RAM: 256M, 1G, 4096K (a bare number is MiB)", Required = true };
        var vcpus = new Option<int>("--vcpus") { Description = "vCPUs", DefaultValueFactory = _ => 1 };
        var live = new Option<bool>("--live") { Description = "live pre-copy under the workload, then suspend and send the rest" };
        var workload = new Option<string>("--workload")
        {
            Description = "with --live: uniform, hotset or sequential, optionally :RATE (pages the guest writes per 1024 pages sent; default 32), or none",
            DefaultValueFactory = _ => "hotset",
        };
        var seed = new Option<ulong>("--seed") { Description = "seed of the domain's contents and the workload", DefaultValueFactory = _ => 1ul };
        var version = new Option<uint>("--stream-version") { Description = "libxc stream version 2 or 3", DefaultValueFactory = _ => 3u };
        var format = new Option<string>("--format", "-f")
        {
            Description = "xl (with a JSON config), libxl, libxc, or legacy (a pre-Xen-4.6 libxc image: PV, PV32 or HVM, non-live)",
            DefaultValueFactory = _ => "xl",
        };
        var legacyWidth = new Option<int>("--legacy-width") { Description = "with -f legacy: the toolstack width, 32 or 64", DefaultValueFactory = _ => 64 };
        var verifyMode = new Option<bool>("--verify-mode") { Description = "with --live: VERIFY, then every page again (xl migrate --debug)" };
        var maxIterations = new Option<int>("--max-iterations") { Description = "pre-copy policy: at most this many live iterations", DefaultValueFactory = _ => PrecopyPolicy.XenMaxIterations };
        var threshold = new Option<long>("--dirty-threshold") { Description = "pre-copy policy: stop once fewer pages are dirty", DefaultValueFactory = _ => PrecopyPolicy.XenDirtyThreshold };
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
            guest, memory, vcpus, live, workload, seed, version, format, legacyWidth, verifyMode, maxIterations, threshold, checkpoints, output,
            postcopy, colo, backChannel,
        };
        command.SetAction(parse => EngineCli.Run("save", () =>
        {
            string path = parse.GetValue(output)!;
            TextWriter report = path == "-" ? Console.Error : Console.Out;
            var spec = new DomainSpec(GuestTypeExtensions.Parse(parse.GetValue(guest)!), EngineCli.ParseMemoryMiB(parse.GetValue(memory)!),
                parse.GetValue(vcpus), parse.GetValue(seed));
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
                Format = EngineCli.ParseFormat(parse.GetValue(format)),
                VerifyMode = parse.GetValue(verifyMode),
                Policy = new PrecopyPolicy(parse.GetValue(maxIterations), parse.GetValue(threshold)),
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
        }));
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

/// <summary>Option parsing and reporting shared by <c>save</c>, <c>restore</c> and <c>demo</c>.</summary>
internal static class EngineCli
{
    /// <summary>
    /// Runs a command body; stream errors exit 1, usage and I/O errors 2, a save or domain refusal 1, and so does a COLO
    /// peer that breaks the handshake (its back channel is input like any stream).
    /// </summary>
    public static int Run(string command, Func<int> body) => CommandRunner.Run(command, () =>
    {
        try
        {
            return body();
        }
        catch (InvalidOperationException e) when (e is SaveException or DomainException or ColoProtocolException)
        {
            Console.Error.WriteLine($"{command}: {e.Message}");
            return ExitCodes.InvalidStream;
        }
    });

    /// <summary>"256M", "1G", "4096K", "262144k", or a bare number of MiB.</summary>
    public static ulong ParseMemoryMiB(string text)
    {
        ulong pages = ParseMemoryPages(text);
        if (pages % 256 != 0)
        {
            throw new ArgumentException($"memory '{text}' is not a whole number of MiB");
        }

        return pages / 256;
    }

    /// <summary>The size in 4 KiB pages.</summary>
    public static ulong ParseMemoryPages(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        ulong unitKiB = 1024;
        if (t.EndsWith("IB", StringComparison.Ordinal))
        {
            t = t[..^2];
        }
        else if (t.EndsWith('B'))
        {
            t = t[..^1];
        }

        if (t.EndsWith('K'))
        {
            unitKiB = 1;
            t = t[..^1];
        }
        else if (t.EndsWith('M'))
        {
            t = t[..^1];
        }
        else if (t.EndsWith('G'))
        {
            unitKiB = 1024 * 1024;
            t = t[..^1];
        }

        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0)
        {
            throw new ArgumentException($"cannot read memory size '{text}': use e.g. 256M, 1G or 262144K");
        }

        const ulong maxKiB = DomainSpec.MaxMemoryMiB * 1024;
        if (n > maxKiB / unitKiB)
        {
            // Refused before any arithmetic, so a huge value is never wrapped into a small one.
            throw new ArgumentException($"memory size '{text}' is larger than the simulation's limit of {DomainSpec.MaxMemoryMiB / 1024} GiB");
        }

        ulong kib = n * unitKiB;
        if (kib % 4 != 0)
        {
            throw new ArgumentException($"memory size '{text}' is not a whole number of 4 KiB pages");
        }

        return kib / 4;
    }

    /// <summary>"none", or uniform|hotset|sequential with an optional ":RATE" (writes per 1024 pages sent).</summary>
    public static Workload? ParseWorkload(string? text, GuestDomain domain, ulong seed)
    {
        if (text is null or "" or "none")
        {
            return null;
        }

        string[] parts = text.Split(':', 2);
        WorkloadPattern pattern = parts[0].Trim().ToLowerInvariant() switch
        {
            "uniform" => WorkloadPattern.Uniform,
            "hotset" or "hot-set" => WorkloadPattern.HotSet,
            "sequential" => WorkloadPattern.Sequential,
            _ => throw new ArgumentException($"unknown workload '{parts[0]}': use uniform, hotset, sequential or none"),
        };
        int rate = DefaultWorkloadRate;
        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out rate) || rate < 0))
        {
            throw new ArgumentException($"workload rate '{parts[1]}' is not a non-negative number");
        }

        return new Workload(domain, new WorkloadOptions(pattern, rate, seed));
    }

    /// <summary>Page writes per 1024 pages sent, when the workload names no rate.</summary>
    public const int DefaultWorkloadRate = 32;

    /// <summary>"xl", "libxl" or "libxc".</summary>
    public static SaveFormat ParseFormat(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "xl" => SaveFormat.Xl,
        "libxl" => SaveFormat.Libxl,
        "libxc" => SaveFormat.Libxc,
        _ => throw new ArgumentException($"unknown format '{text}': use xl, libxl or libxc"),
    };

    /// <summary>One line per memory pass.</summary>
    public static void WritePasses(TextWriter output, SaveResult result)
    {
        foreach (PassStats p in result.Passes)
        {
            string kind = p.Kind switch
            {
                PassKind.Live => "live",
                PassKind.NonLive => "non-live",
                PassKind.Suspended => "suspended",
                PassKind.Postcopy => "post-copy, after the transition",
                _ => "verify",
            };
            string writes = p.WorkloadWrites > 0 ? $", then the guest wrote {p.WorkloadWrites} pages" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  iteration {p.Number} ({kind}): {p.Pfns} pfns, {p.DataPages} pages of data, {p.Bytes} bytes, {p.Duration.TotalMilliseconds:F1} ms{writes}"));
        }

        if (result.FinalPrecopyStats is { } stats)
        {
            string why = stats.DirtyCount >= 0 && stats.DirtyCount < result.Options.Policy.DirtyThreshold
                ? $"{stats.DirtyCount} dirty pages < {result.Options.Policy.DirtyThreshold}"
                : $"{stats.Iteration} iterations >= {result.Options.Policy.MaxIterations}";
            output.WriteLine($"  pre-copy: {result.LiveIterations} live iteration(s), stopped ({why}), then suspended");
        }

        if (result.Checkpoints > 0)
        {
            output.WriteLine($"  checkpoints: {result.Checkpoints}");
        }
    }

    /// <summary>Bytes per second, human-readable.</summary>
    public static string Rate(long bytes, TimeSpan elapsed) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes / Math.Max(elapsed.TotalSeconds, 1e-9) / 1e6:F1} MB/s");
}
