using System.CommandLine;
using System.Diagnostics;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>streambench lab [lab.sh options]</c>: the real Xen lab's entry point, discoverable from <c>--help</c>. It runs
/// tools/xenlab/lab.sh of the source tree this CLI was built from (or of the current directory's tree), passing every
/// option through; <c>streambench lab --list</c> prints the scenario table. Exit code: lab.sh's (0 no FAIL, 1 a FAIL,
/// 2 the lab could not be built or booted).
/// </summary>
internal static class LabCommand
{
    public static Command Create()
    {
        var args = new Argument<string[]>("options") { Description = "lab.sh options, e.g. --quick, --list, --scenarios a,b, --streams DIR, --json", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("lab", "Run the real Xen lab (tools/xenlab/lab.sh: Xen under QEMU): scenarios, foreign streams (--streams DIR), results as JSON.")
        {
            args,
        };
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction(parse =>
        {
            string? script = Find();
            if (script is null)
            {
                Console.Error.WriteLine("streambench lab: tools/xenlab/lab.sh not found above the CLI's folder or the current directory (run it from a StreamBench source tree)");
                return ExitCodes.UsageOrIo;
            }

            var psi = new ProcessStartInfo("bash") { UseShellExecute = false };
            psi.ArgumentList.Add(script);
            // lab.sh's options go through in their own order (the parser would split known from unknown tokens)
            string[] all = Environment.GetCommandLineArgs();
            int at = Array.IndexOf(all, "lab");
            foreach (string a in at >= 0 ? all[(at + 1)..] : parse.GetValue(args) ?? [])
            {
                psi.ArgumentList.Add(a);
            }

            try
            {
                using var p = Process.Start(psi)!;
                p.WaitForExit();
                return p.ExitCode;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Console.Error.WriteLine("streambench lab: cannot run bash: " + e.Message);
                return ExitCodes.UsageOrIo;
            }
        });
        return cmd;
    }

    private static string? Find()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "tools", "xenlab", "lab.sh");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
