using System.Diagnostics;

namespace StreamBench.Fuzz.Tests;

/// <summary>Without __AFL_SHM_ID the target runs each given input once (reproduction mode).</summary>
public sealed class StandaloneTests : IClassFixture<SmokeTarget>
{
    private readonly SmokeTarget smoke;

    public StandaloneTests(SmokeTarget smoke) => this.smoke = smoke;

    [Fact]
    public void ValidFile_RunsOnceAndExitsZero()
    {
        var input = smoke.WriteInput("valid.bin", ToyInputs.Valid);
        var (code, stderr) = RunTarget([input]);
        Assert.Equal(0, code);
        Assert.Contains("valid.bin: 17 bytes", stderr, StringComparison.Ordinal);
        Assert.Contains(": ok", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(" 0 edges", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void PlantedBug_IsReportedAsCrash_WithStackTrace()
    {
        var input = smoke.WriteInput("crash.bin", ToyInputs.PlantedBug);
        var (code, stderr) = RunTarget([input]);
        Assert.Equal(1, code);
        Assert.Contains("CRASH", stderr, StringComparison.Ordinal);
        Assert.Contains("ArgumentOutOfRangeException", stderr, StringComparison.Ordinal);
        Assert.Contains("ToyParser.Parse", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stdin_IsTheInputWithoutArguments()
    {
        var (code, stderr) = RunTarget([], stdin: ToyInputs.BadVersion);
        Assert.Equal(0, code);
        Assert.Contains("stdin: 5 bytes", stderr, StringComparison.Ordinal);
        Assert.Contains("expected ToyFormatException", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Directory_RunsEveryFile_AndFailsIfAnyCrashes()
    {
        var dir = Path.Combine(smoke.Directory, "corpus");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "a"), ToyInputs.Valid);
        File.WriteAllBytes(Path.Combine(dir, "b"), ToyInputs.PlantedBug);
        File.WriteAllText(Path.Combine(dir, "README.txt"), "afl-fuzz's note, not an input");
        var (code, stderr) = RunTarget([dir]);
        Assert.Equal(1, code);
        Assert.Contains("2 inputs, 1 failed", stderr, StringComparison.Ordinal);
    }

    private (int Code, string StdErr) RunTarget(string[] args, byte[]? stdin = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        info.ArgumentList.Add(smoke.Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment.Remove("__AFL_SHM_ID");
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.BaseStream.Write(stdin);
        }
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(30_000), "target did not exit");
        return (p.ExitCode, err.Result + output.Result);
    }
}
