using System.CommandLine;
using System.Globalization;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
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
        var guest = new Option<string>("--guest") { Description = "pv, pv32, hvm or pvh", DefaultValueFactory = _ => "hvm" };
        var memory = new Option<string>("--memory", "-m") { Description = "guest RAM, e.g. 256M or 1G", DefaultValueFactory = _ => "256M" };
        var vcpus = new Option<int>("--vcpus") { Description = "vCPUs", DefaultValueFactory = _ => 2 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the domain's contents and the workload", DefaultValueFactory = _ => 1ul };
        var workload = new Option<string>("--workload")
        {
            Description = "uniform, hotset or sequential, optionally :RATE (pages written per 1024 pages sent), or none",
            DefaultValueFactory = _ => $"hotset:{EngineCli.DefaultWorkloadRate}",
        };
        var transport = new Option<string>("--transport") { Description = "pipe (in-process) or tcp (127.0.0.1)", DefaultValueFactory = _ => "pipe" };
        var format = new Option<string>("--format", "-f") { Description = "xl, libxl or libxc", DefaultValueFactory = _ => "xl" };
        var version = new Option<uint>("--stream-version") { Description = "libxc stream version 2 or 3", DefaultValueFactory = _ => 3u };
        var maxIterations = new Option<int>("--max-iterations") { Description = "pre-copy policy: at most this many live iterations", DefaultValueFactory = _ => PrecopyPolicy.XenMaxIterations };
        var threshold = new Option<long>("--dirty-threshold") { Description = "pre-copy policy: stop once fewer pages are dirty", DefaultValueFactory = _ => PrecopyPolicy.XenDirtyThreshold };
        var nonLive = new Option<bool>("--non-live") { Description = "suspend first and send everything once" };
        var noVerify = new Option<bool>("--no-verify") { Description = "do not verify the stream on the fly" };
        var command = new Command("demo", "Live-migrate a simulated guest in-process, verify the stream, and prove both digests are equal.")
        {
            guest, memory, vcpus, seed, workload, transport, format, version, maxIterations, threshold, nonLive, noVerify,
        };
        command.SetAction(parse => EngineCli.Run("demo", () =>
        {
            var ci = CultureInfo.InvariantCulture;
            var spec = new DomainSpec(GuestTypeExtensions.Parse(parse.GetValue(guest)!), EngineCli.ParseMemoryMiB(parse.GetValue(memory)!),
                parse.GetValue(vcpus), parse.GetValue(seed));
            MigrationTransport channel = parse.GetValue(transport)?.Trim().ToLowerInvariant() switch
            {
                "pipe" => MigrationTransport.Pipe,
                "tcp" => MigrationTransport.Tcp,
                var other => throw new ArgumentException($"unknown transport '{other}': use pipe or tcp"),
            };
            bool live = !parse.GetValue(nonLive);
            bool verify = !parse.GetValue(noVerify);
            TextWriter o = Console.Out;

            var built = System.Diagnostics.Stopwatch.StartNew();
            using GuestDomain source = DomainBuilder.Build(spec);
            string workloadText = parse.GetValue(workload) ?? "none";
            Workload? load = live ? EngineCli.ParseWorkload(workloadText, source, spec.Seed) : null;
            var save = new SaveOptions
            {
                Live = live,
                Workload = load,
                Format = EngineCli.ParseFormat(parse.GetValue(format)),
                StreamVersion = parse.GetValue(version),
                Policy = new PrecopyPolicy(parse.GetValue(maxIterations), parse.GetValue(threshold)),
            };
            o.WriteLine(string.Create(ci,
                $"demo: {(live ? "live-migrating" : "migrating")} {spec.Type.ToName()}, {spec.Vcpus} vCPU(s), {spec.MemoryMiB} MiB (seed {spec.Seed}, built in {built.Elapsed.TotalSeconds:F2} s) " +
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
        }));
        return command;
    }
}
