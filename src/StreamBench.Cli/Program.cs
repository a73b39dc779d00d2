using System.CommandLine;
using StreamBench.Cli.Commands;

namespace StreamBench.Cli;

/// <summary>The <c>streambench</c> entry point: commands only, no logic of its own.</summary>
public static class Program
{
    /// <summary>Runs the command line.</summary>
    public static int Main(string[] args)
    {
        var root = BuildRoot();
        return root.Parse(args).Invoke();
    }

    /// <summary>The command tree (tests use it directly).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("StreamBench: recorder, replayer, verifier and fuzzing bench for Xen save/restore and migration streams.");
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }
        return root;
    }
}
