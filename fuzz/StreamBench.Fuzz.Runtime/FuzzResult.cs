namespace StreamBench.Fuzzing;

/// <summary>How one execution of a fuzz target ended.</summary>
public enum FuzzOutcome
{
    /// <summary>The target returned normally.</summary>
    Ok,

    /// <summary>The target threw an exception declared expected (malformed input, correctly rejected).</summary>
    ExpectedException,

    /// <summary>The target threw any other exception: a bug. Reported to afl-fuzz as a crash (SIGABRT).</summary>
    UnexpectedException,

    /// <summary>The target allocated more than the budget: a bug. Reported to afl-fuzz as a crash (SIGUSR2).</summary>
    AllocationBudgetExceeded,
}

/// <summary>
/// The wait statuses the fork server reports to afl-fuzz. afl-fuzz decodes them with <c>WIFSIGNALED</c>/<c>WTERMSIG</c>,
/// so a crash is "killed by signal N" and shows up as <c>sig:NN</c> in the crash file's name.
/// </summary>
public static class AflStatus
{
    /// <summary>Exited normally with code 0.</summary>
    public const int Ok = 0;

    /// <summary>Killed by SIGABRT (6): an unexpected exception, or a worker that died by itself (e.g. stack overflow).</summary>
    public const int Crash = 6;

    /// <summary>Killed by SIGKILL (9): afl-fuzz's own timeout kill of an out-of-process worker.</summary>
    public const int Killed = 9;

    /// <summary>Killed by SIGUSR2 (12): the per-input allocation budget was exceeded.</summary>
    public const int AllocationBudget = 12;
}

/// <summary>The result of one execution.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Exception">The exception that escaped the target, if any.</param>
/// <param name="AllocatedBytes">Bytes allocated on the executing thread during the run.</param>
/// <param name="InputLength">Length of the input the target saw (after <see cref="FuzzOptions.MaxInputBytes"/>).</param>
public readonly record struct FuzzResult(FuzzOutcome Outcome, Exception? Exception, long AllocatedBytes, int InputLength)
{
    /// <summary>Whether afl-fuzz is told this input crashed.</summary>
    public bool IsFailure => Outcome is FuzzOutcome.UnexpectedException or FuzzOutcome.AllocationBudgetExceeded;

    /// <summary>The wait status reported to afl-fuzz for this result.</summary>
    public int WaitStatus => Outcome switch
    {
        FuzzOutcome.UnexpectedException => AflStatus.Crash,
        FuzzOutcome.AllocationBudgetExceeded => AflStatus.AllocationBudget,
        _ => AflStatus.Ok,
    };
}
