using System.CommandLine;
using StreamBench.Cli.Commands;

namespace StreamBench.Cli;

/// <summary>The <c>streambench</c> entry point: commands only, no logic of its own.</summary>
public static class Program
{
    /// <summary>Runs the command line.</summary>
    public static int Main(string[] args) => Run(args);

    /// <summary>
    /// Parses and runs <paramref name="args"/>: a usage error (unknown option, missing argument) exits 2, as every
    /// other usage or I/O error does (System.CommandLine's own default would be 1, the code for an invalid stream).
    /// </summary>
    public static int Run(string[] args)
    {
        var parse = BuildRoot().Parse(args);
        var code = parse.Invoke();
        return parse.Errors.Count > 0 ? ExitCodes.UsageOrIo : code;
    }

    /// <summary>The command tree (tests use it directly).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("StreamBench: recorder, replayer, verifier and fuzzing bench for Xen save/restore and migration streams.");
        foreach (var command in CommandCatalog.All())
        {
            CommandGuard.Wrap(command);
            root.Subcommands.Add(command);
        }
        return root;
    }
}
