using System.Diagnostics;

namespace StreamBench.Fuzz.Tests;

/// <summary>A [Fact] skipped, visibly, when python3 is not installed (the planted-bug tools are Python scripts).</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    /// <summary>Sets Skip when python3 is not on PATH.</summary>
    public PythonFactAttribute()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(':').Any(d => File.Exists(Path.Combine(d, "python3"))))
        {
            Skip = "python3 is not installed: the planted-bug benchmark (fuzz/bench) needs it";
        }
    }
}

/// <summary>
/// The planted-bug benchmark (fuzz/bench, tools/fuzz/bugbench.sh) stays usable as src/ changes: every bug's anchor
/// still matches exactly one line of src/, every bug has its reproducer, and planting leaves a tree whose planted
/// lines are all tagged. Whether each reproducer reaches its bug needs the planted build: `tools/fuzz/bugbench.sh check`.
/// </summary>
public sealed class PlantedBugTests : IDisposable
{
    private readonly string directory = TestFiles.NewTempDirectory("bench");

    public void Dispose() => TestFiles.TryDelete(directory);

    private static string Root
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "fuzz", "bench", "plant.py")))
                {
                    return d.FullName;
                }
            }
            throw new InvalidOperationException("fuzz/bench/plant.py not found above " + AppContext.BaseDirectory);
        }
    }

    [PythonFact]
    public void EveryAnchorMatchesExactlyOneLineOfSrc_AndEveryBugHasAReproducer()
    {
        var (code, output) = Python("--check");
        Assert.True(code == 0, output);
        var (_, list) = Python("--list");
        var ids = list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => int.Parse(l.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(ids.Count >= 20, $"{ids.Count} planted bugs");
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var id in ids)
        {
            Assert.True(File.Exists(Path.Combine(Root, "fuzz", "bench", "repro", $"B{id:00}.bin")), $"B{id:00} has no reproducer");
        }
    }

    [PythonFact]
    public void PlantingWritesTheSwitchClass_AndTagsEveryPlantedLine()
    {
        var dest = Path.Combine(directory, "tree");
        var (code, output) = Python(dest);
        Assert.True(code == 0, output);
        var planted = Directory.EnumerateFiles(Path.Combine(dest, "src"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(File.ReadLines).Count(l => l.Contains("// PLANTED B", StringComparison.Ordinal));
        Assert.True(planted >= 20, $"{planted} planted lines");
        Assert.Single(Directory.EnumerateFiles(Path.Combine(dest, "src"), "PlantedBugs.cs", SearchOption.AllDirectories));
        // The original stays clean.
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories),
            f => File.ReadAllText(f).Contains("PlantedBugs", StringComparison.Ordinal));
    }

    private static (int Code, string Output) Python(string argument)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Root, "fuzz", "bench", "plant.py"));
        psi.ArgumentList.Add(argument);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("plant.py " + argument);
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
