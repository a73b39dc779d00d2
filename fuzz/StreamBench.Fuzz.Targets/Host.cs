using System.Globalization;
using StreamBench.Formats.Verification;
using StreamBench.Fuzzing;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// The command line shared by every target host (this one, and StreamBench.Fuzz.Targets.Engine which adds the
/// restore engine).
/// <code>
///   FUZZ_TARGET=NAME host [@@]                       fuzz (under afl-fuzz), or reproduce: host FILE|DIR... (standalone mode)
///   host --list                                      one line per target: name, assemblies, include prefixes, seeds, dictionaries, mode, description
///   host --target NAME [--json] FILE|DIR...          replay inputs without AFL; classify; bucket keys (triage)
///   host --make-seeds OUTDIR [--corpus DIR]...       write the seed corpora
///   host --verify-batch [--profile xen] FILE|DIR...  verify many files in one process, one JSON line each
/// </code>
/// Under afl-fuzz the target must come from the environment (FUZZ_TARGET): the fork server reads the command line as
/// input paths (afl-fuzz's @@).
/// </summary>
public static class Host
{
    /// <summary>The environment variable that selects the target under afl-fuzz.</summary>
    public const string TargetVariable = "FUZZ_TARGET";

    /// <summary>Runs the host with <paramref name="targets"/>.</summary>
    public static int Run(string[] args, IReadOnlyList<FuzzTarget> targets,
        Func<IEnumerable<(string Family, string Name, byte[] Bytes)>>? extraSeeds = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(targets);
        if (args.Length > 0 && args[0].StartsWith("--", StringComparison.Ordinal))
        {
            return Command(args, targets, extraSeeds);
        }
        var name = Environment.GetEnvironmentVariable(TargetVariable);
        if (string.IsNullOrEmpty(name))
        {
            Console.Error.WriteLine($"set {TargetVariable} to one of: {string.Join(", ", targets.Select(t => t.Name))} (or see --help)");
            return 2;
        }
        var target = Catalog.Find(targets, name);
        if (target is null)
        {
            Console.Error.WriteLine($"unknown target '{name}'; one of: {string.Join(", ", targets.Select(t => t.Name))}");
            return 2;
        }
        if (target.OutOfProcess)
        {
            Fuzzer.OutOfProcess.Run(target.StreamAction, target.Options());
        }
        else
        {
            Fuzzer.Run(target.StreamAction, target.Options());
        }
        return Environment.ExitCode;
    }

    private static int Command(string[] args, IReadOnlyList<FuzzTarget> targets,
        Func<IEnumerable<(string Family, string Name, byte[] Bytes)>>? extraSeeds)
    {
        switch (args[0])
        {
            case "--list":
                foreach (var t in targets)
                {
                    Console.WriteLine(string.Join('\t', t.Name, string.Join(',', t.Assemblies), string.Join(',', t.Instrument), t.Seeds,
                        string.Join(',', t.Dictionaries), t.OutOfProcess ? "oop" : "inproc", t.Description));
                }
                return 0;
            case "--target" when args.Length >= 2:
            {
                var target = Catalog.Find(targets, args[1]);
                if (target is null)
                {
                    Console.Error.WriteLine($"unknown target '{args[1]}'");
                    return 2;
                }
                var rest = args.Skip(2).ToList();
                var json = rest.Remove("--json");
                return Replay.Run(target, rest, json);
            }
            case "--make-seeds" when args.Length >= 2:
            {
                var corpora = new List<string>();
                for (var i = 2; i + 1 < args.Length; i += 2)
                {
                    if (args[i] == "--corpus")
                    {
                        corpora.Add(args[i + 1]);
                    }
                }
                var n = Seeds.Make(args[1], corpora, extraSeeds?.Invoke());
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeds: {n} files in {args[1]}"));
                return 0;
            }
            case "--verify-batch":
            {
                var rest = args.Skip(1).ToList();
                var profile = VerificationProfile.Xen;
                var at = rest.IndexOf("--profile");
                if (at >= 0 && at + 1 < rest.Count)
                {
                    if (!VerificationProfiles.TryParse(rest[at + 1], out profile))
                    {
                        Console.Error.WriteLine("--profile: xen, restore or strict");
                        return 2;
                    }
                    rest.RemoveRange(at, 2);
                }
                return OracleBatch.Run(profile, rest);
            }
            default:
                Console.Error.WriteLine("""
                    usage:
                      FUZZ_TARGET=NAME host [FILE|DIR...]             fuzz under afl-fuzz, or run inputs once (standalone)
                      host --list                                     targets: name, assemblies, includes, seeds, dictionaries, mode, description
                      host --target NAME [--json] FILE|DIR...         replay without AFL, classify, bucket keys
                      host --make-seeds OUTDIR [--corpus DIR]...      write the seed corpora
                      host --verify-batch [--profile P] FILE|DIR...   verify many files, one JSON line each
                    """);
                return 2;
        }
    }
}
