using StreamBench.Fuzzing;

namespace StreamBench.Fuzz.Tests;

/// <summary>The fork-server protocol on fds 198/199, driven by <see cref="FakeAfl"/> against the instrumented smoke target.</summary>
public sealed class ForkServerTests : IClassFixture<SmokeTarget>
{
    private static readonly Dictionary<string, string> Hooks = new() { ["STREAMBENCH_SMOKE_TEST_HOOKS"] = "1" };

    private readonly SmokeTarget smoke;

    public ForkServerTests(SmokeTarget smoke) => this.smoke = smoke;

    [Fact]
    public void InProcess_ReportsOwnPidAndStatusPerInput_AndWritesCoverage()
    {
        using var afl = new FakeAfl(smoke.Dll, Hooks);
        Assert.Equal(unchecked((int)0xC001FFFF), afl.ReadHello());

        var valid = afl.Run(ToyInputs.Valid);
        Assert.Equal(AflStatus.Ok, valid.Status);
        // bash exec()s into dotnet, so the target is the process we started: in-process mode reports its own pid.
        Assert.Equal(afl.Process.Id, valid.Pid);
        Assert.True(valid.Edges > 10, $"only {valid.Edges} edges for a valid input");

        var again = afl.Run(ToyInputs.Valid);
        Assert.Equal(valid.Edges, again.Edges);

        var rejected = afl.Run(ToyInputs.BadVersion);
        Assert.Equal(AflStatus.Ok, rejected.Status);
        Assert.InRange(rejected.Edges, 1, valid.Edges - 1);

        var crash = afl.Run(ToyInputs.PlantedBug);
        Assert.True(crash.Signaled);
        Assert.Equal(6, crash.Signal);

        var budget = afl.Run("ALOC"u8.ToArray());
        Assert.True(budget.Signaled);
        Assert.Equal(AflStatus.AllocationBudget, budget.Signal);

        // Still serving after crashes, same process.
        var after = afl.Run(ToyInputs.Valid);
        Assert.Equal(AflStatus.Ok, after.Status);
        Assert.Equal(valid.Pid, after.Pid);

        Assert.True(afl.Stop(), "the fork server did not exit when the control pipe closed");
    }

    [Fact]
    public void OutOfProcess_SurvivesHangsAndHardCrashes()
    {
        var env = new Dictionary<string, string>(Hooks) { ["STREAMBENCH_FUZZ_OUT_OF_PROCESS"] = "1" };
        using var afl = new FakeAfl(smoke.Dll, env);
        Assert.Equal(unchecked((int)0xC001FFFF), afl.ReadHello());

        var valid = afl.Run(ToyInputs.Valid);
        Assert.Equal(AflStatus.Ok, valid.Status);
        Assert.NotEqual(afl.Process.Id, valid.Pid);
        Assert.True(valid.Edges > 10, $"only {valid.Edges} edges for a valid input");

        var crash = afl.Run(ToyInputs.PlantedBug);
        Assert.Equal(6, crash.Signal);
        Assert.Equal(valid.Pid, crash.Pid);

        // afl-fuzz's -t: no status in time, so the driver kills the reported pid (the worker) with SIGKILL.
        var hang = afl.Run("HANG"u8.ToArray(), timeoutMs: 1500);
        Assert.True(hang.TimedOut);
        Assert.Equal(9, hang.Signal);

        var afterHang = afl.Run(ToyInputs.Valid);
        Assert.Equal(AflStatus.Ok, afterHang.Status);
        Assert.NotEqual(valid.Pid, afterHang.Pid);
        Assert.Equal(valid.Edges, afterHang.Edges);

        // Environment.FailFast cannot be caught in-process; the worker dies with SIGABRT and is replaced.
        var die = afl.Run("DIE!"u8.ToArray());
        Assert.True(die.Signaled);
        Assert.Equal(6, die.Signal);

        var afterDie = afl.Run(ToyInputs.Valid);
        Assert.Equal(AflStatus.Ok, afterDie.Status);
        Assert.NotEqual(afterHang.Pid, afterDie.Pid);

        Assert.True(afl.Stop(), "the fork server did not exit when the control pipe closed");
    }

    [Fact]
    public void FileArgument_IsReadAfreshForEveryExecution()
    {
        using var afl = new FakeAfl(smoke.Dll, Hooks, fileArgument: true);
        Assert.Equal(unchecked((int)0xC001FFFF), afl.ReadHello());
        Assert.Equal(AflStatus.Ok, afl.Run(ToyInputs.Valid).Status);
        Assert.Equal(6, afl.Run(ToyInputs.PlantedBug).Signal);
        var valid = afl.Run(ToyInputs.Valid);
        Assert.Equal(AflStatus.Ok, valid.Status);
        Assert.True(valid.Edges > 10);
        Assert.True(afl.Stop());
    }

    [Fact]
    public void LegacyHello_IsFourZeroBytes()
    {
        var env = new Dictionary<string, string>(Hooks) { ["STREAMBENCH_FUZZ_LEGACY_HELLO"] = "1" };
        using var afl = new FakeAfl(smoke.Dll, env);
        Assert.Equal(0, afl.ReadHello());
        Assert.Equal(AflStatus.Ok, afl.Run(ToyInputs.Valid).Status);
        Assert.True(afl.Stop());
    }
}
