using System.Text;
using StreamBench.Tests.Capture;
using Xunit;

namespace StreamBench.Tests.Toolstack;

/// <summary><c>streambench lab</c> finds and runs tools/xenlab/lab.sh, whose scenario table is the one list of scenarios.</summary>
public sealed class LabCommandTests
{
    [Fact]
    public void Lab_list_prints_the_scenario_table_with_the_ci_set_and_lab_skip_exits_zero()
    {
        var (code, stdout, stderr) = CaptureTestSupport.RunCli(null, "lab", "--list");
        Assert.True(code == 0, stderr);
        string[] rows = Encoding.UTF8.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("name ", rows[0], StringComparison.Ordinal);
        string[] quick = rows.Skip(1).Where(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2].Split(',').Contains("quick"))
            .Select(r => r.Split(' ')[0]).ToArray();
        Assert.Equal(
            ["save-pv", "save-c", "save-pvh", "migrate-pv", "migrate-pvh", "migrate-recorded", "restore-host", "engine-roundtrip", "receive-replay", "bad-streams", "replay-recorded"],
            quick);
        Assert.Contains(rows, r => r.StartsWith("replay-streams ", StringComparison.Ordinal));

        var (skip, skipOut, _) = CaptureTestSupport.RunCli(null, "lab", "--scenarios", "save-pv", "--skip");
        Assert.Equal(0, skip);
        Assert.Contains("xenlab: SKIP", Encoding.UTF8.GetString(skipOut), StringComparison.Ordinal);
    }

    [Fact]
    public void Lab_knows_the_two_host_versions_and_refuses_any_other()
    {
        // --xen 4.20 picks the Debian trixie host (its own dom0 image); an unknown version is a usage error (lab.sh: 64)
        // before anything is built or booted
        var (ok, okOut, okErr) = CaptureTestSupport.RunCli(null, "lab", "--xen", "4.20", "--scenarios", "save-pv", "--skip");
        Assert.True(ok == 0, okErr);
        Assert.Contains("xenlab: SKIP", Encoding.UTF8.GetString(okOut), StringComparison.Ordinal);

        var (bad, _, badErr) = CaptureTestSupport.RunCli(null, "lab", "--xen", "4.99", "--skip");
        Assert.Equal(64, bad);
        Assert.Contains("only 4.17 and 4.20 are known", badErr, StringComparison.Ordinal);
    }
}
