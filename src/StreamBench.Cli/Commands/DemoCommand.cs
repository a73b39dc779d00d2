using System.CommandLine;
using System.Globalization;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats.Verification;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>streambench demo</c>: the bench's main job on its own simulated guest. Builds a domain (HVM, 256 MiB, 2 vCPUs,
/// seed 1 by default), live-migrates it under a hot-set workload over an in-process pipe (or loopback TCP), verifies
/// the stream on the fly (strict profile), restores it, and proves the source and target digests are equal. Exit 0
/// only if the stream verifies and the digests are equal.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var domainOptions = new DomainOptions(guest: "hvm", memory: "256M", vcpus: 2);
        var policy = new PrecopyPolicyOptions();
        var workload = new Option<string>("--workload")
        {
            Description = "uniform, hotset or sequential, optionally :RATE (pages written per 1024 pages sent), or none",
            DefaultValueFactory = _ => $"hotset:{EngineCli.DefaultWorkloadRate}",
        };
        var transport = new Option<string>("--transport") { Description = "pipe (in-process) or tcp (127.0.0.1)", DefaultValueFactory = _ => "pipe" };
        var format = new Option<string>("--format", "-f") { Description = "xl, libxl or libxc", DefaultValueFactory = _ => "xl" };
        var version = new Option<uint>("--stream-version") { Description = "libxc stream version 2 or 3", DefaultValueFactory = _ => 3u };
        var nonLive = new Option<bool>("--non-live") { Description = "suspend first and send everything once" };
        var noVerify = new Option<bool>("--no-verify") { Description = "do not verify the stream on the fly" };
        var mode = new Option<string>("--mode") { Description = "precopy (live migration), remus or colo (checkpointed; colo runs a primary and a secondary), postcopy", DefaultValueFactory = _ => "precopy" };
        var checkpoints = new Option<int>("--checkpoints") { Description = "remus/colo: checkpoints before the primary stops", DefaultValueFactory = _ => 5 };
        var fail = new Option<string?>("--fail") { Description = "colo: inject a failure: primary@BYTES (the primary dies after that many main-stream bytes) or secondary@N (after N checkpoints)" };
        var command = new Command("demo", "Migrate a simulated guest in-process (pre-copy, Remus, COLO), verify the stream, and prove the digests are equal.")
        {
            workload, transport, format, version, nonLive, noVerify, mode, checkpoints, fail,
        };
        domainOptions.AddTo(command);
        policy.AddTo(command);
        command.SetAction(parse =>
        {
            var ci = CultureInfo.InvariantCulture;
            var spec = domainOptions.Spec(parse);
            MigrationTransport channel = CliNames.Transports.Parse(parse.GetValue(transport));
            bool live = !parse.GetValue(nonLive);
            bool verify = !parse.GetValue(noVerify);
            TextWriter o = Console.Out;
            DemoMode demoMode = CliNames.DemoModes.Parse(parse.GetValue(mode));
            if (demoMode == DemoMode.Colo)
            {
                return RunColo(o, spec, channel, parse.GetValue(workload) ?? "none", parse.GetValue(checkpoints), parse.GetValue(fail), CliNames.SaveFormats.Parse(parse.GetValue(format)));
            }

            if (demoMode == DemoMode.Postcopy)
            {
                return RunPostcopy(o, spec, channel, parse.GetValue(workload) ?? "none", CliNames.SaveFormats.Parse(parse.GetValue(format)),
                    policy.Policy(parse));
            }

            bool remus = demoMode == DemoMode.Remus;

            var built = System.Diagnostics.Stopwatch.StartNew();
            using GuestDomain source = DomainBuilder.Build(spec);
            string workloadText = parse.GetValue(workload) ?? "none";
            Workload? load = live ? EngineCli.ParseWorkload(workloadText, source, spec.Seed) : null;
            var save = new SaveOptions
            {
                Live = live,
                Workload = load,
                Format = CliNames.SaveFormats.Parse(parse.GetValue(format)),
                StreamVersion = parse.GetValue(version),
                Policy = policy.Policy(parse),
                Checkpoints = remus ? Math.Max(1, parse.GetValue(checkpoints)) : 0,
                RecordCheckpointDigests = remus,
            };
            o.WriteLine(string.Create(ci,
                $"demo: {(remus ? $"Remus ({save.Checkpoints} checkpoints), " : "")}{(live ? "live-migrating" : "migrating")} {spec.Type.ToName()}, {spec.Vcpus} vCPU(s), {spec.MemoryMiB} MiB (seed {spec.Seed}, built in {built.Elapsed.TotalSeconds:F2} s) " +
                $"over {channel.ToString().ToLowerInvariant()}, workload {(load is null ? "none" : workloadText)}, {save.Format.ToString().ToLowerInvariant()} stream v{save.StreamVersion}"));

            MigrationReport report = MigrationRunner.Run(source, new MigrationOptions
            {
                Transport = channel,
                Save = save,
                VerifyStream = verify,
                VerifyProfile = VerificationProfile.Strict,
            });
            using GuestDomain target = report.Target;

            EngineCli.WritePasses(o, report.Save);
            o.WriteLine($"iterations: {report.Save.Passes.Count} ({report.Save.LiveIterations} live + {report.Save.Passes.Count - report.Save.LiveIterations} with the guest suspended)");
            o.WriteLine($"pages per iteration: {string.Join(", ", report.Save.Passes.Select(p => p.DataPages.ToString(ci)))}");
            if (remus)
            {
                for (int i = 0; i < report.Save.CheckpointDigests.Count; i++)
                {
                    o.WriteLine($"checkpoint {i + 1}: primary digest {report.Save.CheckpointDigests[i]}");
                }

                o.WriteLine($"restore: {report.Restore.CheckpointsApplied} checkpoint(s) applied, the last one kept");
            }

            o.WriteLine($"bytes: {report.Bytes}");
            o.WriteLine(string.Create(ci, $"time: {report.Elapsed.TotalSeconds:F3} s"));
            o.WriteLine($"throughput: {EngineCli.Rate(report.Bytes, report.Elapsed)}");
            o.WriteLine(string.Create(ci, $"downtime: {report.Downtime.TotalMilliseconds:F1} ms (suspend to stream_complete)"));
            bool streamOk = true;
            if (report.Verification is { } v)
            {
                streamOk = v.IsValid;
                o.WriteLine($"verify (strict, on the fly): {(v.IsValid ? "VALID" : "INVALID")}: {v.ErrorCount} errors, {v.WarningCount} warnings, {v.Summary.Records} records");
                foreach (Finding f in v.Findings.Where(f => f.Severity == FindingSeverity.Error).Take(10))
                {
                    o.WriteLine($"  {f}");
                }
            }
            else
            {
                o.WriteLine("verify: skipped (--no-verify)");
            }

            o.WriteLine($"source digest: {report.SourceDigest}");
            o.WriteLine($"target digest: {report.TargetDigest}");
            if (report.DigestsEqual)
            {
                o.WriteLine("digests equal");
            }
            else
            {
                o.WriteLine($"digests DIFFER: {StreamBench.Domain.Digest.DomainComparison.FirstDifference(source, target)}");
            }

            return streamOk && report.DigestsEqual ? ExitCodes.Ok : ExitCodes.InvalidStream;
        });
        return command;
    }

    // --mode colo: the primary and the secondary over one channel, each checkpoint's digests, and the failover.
    private static int RunColo(TextWriter o, DomainSpec spec, MigrationTransport channel, string workloadText, int checkpoints, string? fail, SaveFormat format)
    {
        var ci = CultureInfo.InvariantCulture;
        if (spec.Type != GuestType.Hvm)
        {
            throw new ArgumentException("--mode colo needs --guest hvm (libxl: \"COLO only supports hvm now\")");
        }

        using GuestDomain source = DomainBuilder.Build(spec);
        WorkloadOptions? primaryLoad = EngineCli.ParseWorkload(workloadText, source, spec.Seed)?.Options;
        var options = new ColoOptions
        {
            Transport = channel,
            Checkpoints = Math.Max(1, checkpoints),
            Format = format,
            PrimaryWorkload = primaryLoad,
            SecondaryWorkload = primaryLoad is null ? null : primaryLoad with { Seed = primaryLoad.Seed + 1 },
            RecordBackChannel = true,
        };
        if (fail is { Length: > 0 })
        {
            string[] parts = fail.Split('@', 2);
            if (parts.Length != 2 || !long.TryParse(parts[1], NumberStyles.Integer, ci, out long at) || at < 0)
            {
                throw new ArgumentException($"--fail '{fail}': use primary@BYTES or secondary@CHECKPOINTS");
            }

            options = parts[0] switch
            {
                "primary" => options with { PrimaryDiesAfterBytes = at },
                "secondary" => options with { SecondaryDiesAfterCheckpoints = (int)Math.Max(1, at) },
                _ => throw new ArgumentException($"--fail '{fail}': use primary@BYTES or secondary@CHECKPOINTS"),
            };
        }

        o.WriteLine(string.Create(ci,
            $"demo: COLO, {spec.Type.ToName()}, {spec.Vcpus} vCPU(s), {spec.MemoryMiB} MiB (seed {spec.Seed}), {options.Checkpoints} checkpoints over {channel.ToString().ToLowerInvariant()}, " +
            $"workload {(primaryLoad is null ? "none" : workloadText)} on both sides, {format.ToString().ToLowerInvariant()} stream"));
        ColoReport r = ColoRunner.Run(source, options);
        using GuestDomain? taken = r.Secondary?.Domain;
        foreach (ColoCheckpointRow c in r.Checkpoints)
        {
            string secondary = c.SecondaryDigest is null ? "not applied" : c.DigestsEqual ? "equal" : $"DIFFERS ({c.SecondaryDigest})";
            o.WriteLine(string.Create(ci,
                $"checkpoint {c.Index}: {c.PfnsSent} pfns sent ({c.PrimaryDirty} dirtied by the primary, {c.SecondaryDirty} by the secondary); primary {c.PrimaryDigest.ToString()[..16]}..., secondary {secondary}"));
        }

        bool backOk = true;
        if (r.BackChannel is { } back)
        {
            VerifyResult v = Verifier.Verify(back, VerifierOptions.Create(VerificationProfile.Strict, Formats.Streams.OuterFormat.BackChannel));
            backOk = v.IsValid;
            o.WriteLine($"back channel (secondary -> primary, strict): {(v.IsValid ? "VALID" : "INVALID")}: {v.Summary.Records} records, {r.BackBytes} bytes");
        }

        o.WriteLine($"main stream: {r.MainBytes} bytes; time {r.Elapsed.TotalSeconds.ToString("F3", ci)} s");
        o.WriteLine($"outcome: {r.Outcome}: {r.Reason}");
        if (r.SecondaryFailoverDigest is not null)
        {
            o.WriteLine($"secondary took over: {(r.FailoverKeptLastCheckpoint ? "from its last complete checkpoint (plus its own run since)" : "NOT from its last complete checkpoint")}; digest {r.SecondaryFailoverDigest}");
        }

        if (r.SecondaryLost is not null)
        {
            o.WriteLine($"primary goes on alone; digest {r.PrimaryFinalDigest}");
        }

        bool digestsOk = r.AllAppliedDigestsEqual;
        o.WriteLine(digestsOk ? $"digests equal at all {r.SecondaryCheckpointsApplied} applied checkpoint(s)" : "digests DIFFER (or no checkpoint was applied)");
        bool failoverOk = r.Outcome switch
        {
            ColoOutcome.PrimaryStopped or ColoOutcome.PrimaryDied => r.FailoverKeptLastCheckpoint,
            ColoOutcome.SecondaryDied => true,
            ColoOutcome.PrimaryDiedBeforeFirstCheckpoint => true,
            _ => false,
        };
        return digestsOk && failoverOk && backOk || r.Outcome == ColoOutcome.PrimaryDiedBeforeFirstCheckpoint ? ExitCodes.Ok : ExitCodes.InvalidStream;
    }

    // --mode postcopy: a pre-copy migration and a post-copy one of the same guest (same seed, same workload), side by side.
    private static int RunPostcopy(TextWriter o, DomainSpec spec, MigrationTransport channel, string workloadText, SaveFormat format, PrecopyPolicy policy)
    {
        var ci = CultureInfo.InvariantCulture;
        if (spec.Type.IsPv())
        {
            throw new ArgumentException("--mode postcopy carries HVM and PVH guests here");
        }

        o.WriteLine(string.Create(ci,
            $"demo: post-copy vs pre-copy, {spec.Type.ToName()}, {spec.Vcpus} vCPU(s), {spec.MemoryMiB} MiB (seed {spec.Seed}) over {channel.ToString().ToLowerInvariant()}, workload {workloadText}, {format.ToString().ToLowerInvariant()} stream v2"));

        // Pre-copy, for comparison.
        using GuestDomain preSource = DomainBuilder.Build(spec);
        MigrationReport pre = MigrationRunner.Run(preSource, new MigrationOptions
        {
            Transport = channel,
            VerifyStream = false,
            Save = new SaveOptions { Live = true, StreamVersion = 2, Format = format, Policy = policy, Workload = EngineCli.ParseWorkload(workloadText, preSource, spec.Seed) },
        });
        using GuestDomain preTarget = pre.Target;

        using GuestDomain source = DomainBuilder.Build(spec);
        PostcopyReport post = PostcopyRunner.Run(source, new PostcopyOptions
        {
            Transport = channel,
            Format = format,
            Policy = policy,
            Workload = EngineCli.ParseWorkload(workloadText, source, spec.Seed)?.Options,
            GuestSeed = spec.Seed,
            Record = true,
        });
        using GuestDomain? postTarget = post.Restore?.Domain;
        if (post.Save is { } saved)
        {
            EngineCli.WritePasses(o, saved);
        }

        PostcopySource s = post.Source;
        PostcopyDestination d = post.Destination;
        long preSuspendedPages = pre.Save.Passes[^1].DataPages;
        long preTwice = pre.Save.Passes.Sum(p => p.DataPages) - pre.Save.Passes[0].DataPages;
        string latency = d.FaultLatencies.Count == 0 ? "-" : string.Create(ci, $"mean {d.FaultLatencies.Average():F1}, max {d.FaultLatencies.Max()} pages");
        o.WriteLine("| | pre-copy | post-copy |");
        o.WriteLine("|---|---|---|");
        o.WriteLine(string.Create(ci, $"| downtime (wall) | {pre.Downtime.TotalMilliseconds:F1} ms | {post.Downtime.TotalMilliseconds:F1} ms |"));
        o.WriteLine(string.Create(ci, $"| pages sent with the guest suspended | {preSuspendedPages} | 0 ({s.BytesWhileSuspended} bytes of context and pfn list) |"));
        o.WriteLine(string.Create(ci, $"| total bytes | {pre.Bytes} | {post.Bytes} |"));
        o.WriteLine(string.Create(ci, $"| pages sent twice | {preTwice} | {post.PagesSentTwice} |"));
        o.WriteLine(string.Create(ci, $"| pages after the guest resumed | 0 | {s.PagesOnFault + s.PagesBackground} ({s.PagesOnFault} on fault, {s.PagesBackground} background) |"));
        o.WriteLine(string.Create(ci, $"| faults (re-faults of pages in flight) | - | {d.Faults} ({d.Refaults}) |"));
        o.WriteLine($"| fault latency (simulated: pages received until the page came) | - | {latency} |");
        o.WriteLine($"outcome: {post.Outcome}: {post.Reason}");
        bool backOk = true;
        if (post.BackChannel is { } back)
        {
            VerifyResult v = Verifier.Verify(back, VerifierOptions.Create(VerificationProfile.Strict, Formats.Streams.OuterFormat.BackChannel, Formats.Wire.StreamDialect.PostcopyRfc));
            backOk = v.IsValid;
            o.WriteLine($"back channel (destination -> source, strict): {(v.IsValid ? "VALID" : "INVALID")}: {v.Summary.Records} records");
        }

        o.WriteLine($"pre-copy digests {(pre.DigestsEqual ? "equal" : "DIFFER")}");
        o.WriteLine($"post-copy: reference digest   {post.ReferenceDigest}");
        o.WriteLine($"post-copy: destination digest {post.DestinationDigest}");
        o.WriteLine(post.DigestsEqual ? "digests equal" : "digests DIFFER");
        return pre.DigestsEqual && post.DigestsEqual && post.Outcome == PostcopyOutcome.Completed && backOk ? ExitCodes.Ok : ExitCodes.InvalidStream;
    }
}
