using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>streambench fuzz</c>: runs a fuzzing campaign, the CI smoke, or the triage of a campaign's findings. It drives the
/// scripts under tools/fuzz/ of a StreamBench checkout (found from the current folder upwards, or from where the CLI
/// runs), which build and instrument fuzz/StreamBench.Fuzz.Targets, run afl-fuzz and read its fuzzer_stats
/// (docs/FUZZING.md). The exit code is the script's: 0 nothing found, 1 findings, 2 could not run.
/// </summary>
internal static class FuzzCommand
{
    public static Command Create()
    {
        var target = new Argument<string?>("target")
        {
            Description = "the target (streambench fuzz --list), e.g. reader-libxc",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var seconds = new Option<int>("--seconds") { Description = "how long the campaign runs", DefaultValueFactory = _ => 60 };
        var jobs = new Option<int>("--jobs", "-j") { Description = "afl-fuzz instances: -M main plus J-1 -S secondaries sharing one sync folder", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out", "-o") { Description = "afl-fuzz output (sync) folder (default fuzz/.work/campaigns/TARGET)" };
        var resume = new Option<bool>("--resume") { Description = "continue the campaign in --out" };
        var oop = new Option<bool>("--oop") { Description = "run the target out of process (survives hangs)" };
        var noMutator = new Option<bool>("--no-mutator") { Description = "no structure-aware custom mutator (plain havoc + dictionary)" };
        var timeout = new Option<int?>("--timeout") { Description = "afl-fuzz -t, milliseconds (default 5000)" };
        var triage = new Option<string?>("--triage") { Description = "triage the findings in this campaign folder into regression tests instead of fuzzing" };
        var list = new Option<bool>("--list") { Description = "list the targets" };
        var smoke = new Option<bool>("--smoke") { Description = "run the CI smoke (every target for --seconds, default 20)" };
        var cmd = new Command("fuzz", "Fuzz a parser or engine entry point with AFL++ (build, instrument, campaign, stats), run the smoke, or triage findings.")
        {
            target, seconds, jobs, output, resume, oop, noMutator, timeout, triage, list, smoke,
        };
        cmd.SetAction(parse =>
        {
            var root = FindCheckout();
            if (root is null)
            {
                Console.Error.WriteLine("streambench fuzz: needs a StreamBench checkout (tools/fuzz/campaign.sh) in or above the current folder");
                return ExitCodes.UsageOrIo;
            }
            var args = new List<string>();
            string script;
            if (parse.GetValue(triage) is { } folder)
            {
                script = "tools/fuzz/triage.sh";
                args.Add(Path.GetFullPath(folder));
            }
            else if (parse.GetValue(smoke))
            {
                script = "fuzz/smoke.sh";
                var s = parse.GetResult(seconds) is { Implicit: false } ? parse.GetValue(seconds) : 20;
                args.Add(s.ToString(CultureInfo.InvariantCulture));
            }
            else if (parse.GetValue(list))
            {
                script = "tools/fuzz/campaign.sh";
                args.Add("--list");
            }
            else
            {
                if (parse.GetValue(target) is not { Length: > 0 } name)
                {
                    Console.Error.WriteLine("streambench fuzz: name a target (streambench fuzz --list), or use --triage DIR / --smoke");
                    return ExitCodes.UsageOrIo;
                }
                script = "tools/fuzz/campaign.sh";
                args.AddRange([name, "--seconds", parse.GetValue(seconds).ToString(CultureInfo.InvariantCulture),
                    "--jobs", parse.GetValue(jobs).ToString(CultureInfo.InvariantCulture)]);
                if (parse.GetValue(output) is { } o)
                {
                    args.AddRange(["--out", Path.GetFullPath(o)]);
                }
                if (parse.GetValue(resume))
                {
                    args.Add("--resume");
                }
                if (parse.GetValue(oop))
                {
                    args.Add("--oop");
                }
                if (parse.GetValue(noMutator))
                {
                    args.Add("--no-mutator");
                }
                if (parse.GetValue(timeout) is { } t)
                {
                    args.AddRange(["--timeout", t.ToString(CultureInfo.InvariantCulture)]);
                }
            }
            return Run(root, script, args);
        });
        return cmd;
    }

    private static int Run(string root, string script, List<string> args)
    {
        var psi = new ProcessStartInfo("bash") { WorkingDirectory = root, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(root, script));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        try
        {
            using var process = Process.Start(psi);
            if (process is null)
            {
                Console.Error.WriteLine("streambench fuzz: could not start bash");
                return ExitCodes.UsageOrIo;
            }
            // Ctrl-C reaches the script (same process group); wait for it to stop its fuzzers.
            Console.CancelKeyPress += (_, e) => e.Cancel = true;
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine("streambench fuzz: " + e.Message);
            return ExitCodes.UsageOrIo;
        }
    }

    /// <summary>The checkout: the first folder at or above the current one (then the CLI's own) with tools/fuzz/campaign.sh.</summary>
    private static string? FindCheckout()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "tools", "fuzz", "campaign.sh")) && File.Exists(Path.Combine(dir, "StreamBench.sln")))
                {
                    return dir;
                }
            }
        }
        return null;
    }
}
