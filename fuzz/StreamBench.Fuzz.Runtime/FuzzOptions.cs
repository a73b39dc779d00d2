using System.Globalization;

namespace StreamBench.Fuzzing;

/// <summary>
/// What a fuzz target declares about itself: which exceptions are the expected reaction to bad input, and the
/// per-input budgets. Everything not declared expected counts as a crash.
/// </summary>
/// <remarks>
/// Environment overrides, read once when <see cref="Fuzzer.Run(Action{Stream}, FuzzOptions?)"/> starts:
/// <c>STREAMBENCH_FUZZ_ALLOC_BUDGET</c> (bytes; 0 disables the budget).
/// </remarks>
public sealed class FuzzOptions
{
    /// <summary>The default per-input allocation budget: 64 MiB.</summary>
    public const long DefaultAllocationBudgetBytes = 64L << 20;

    /// <summary>The default cap on input length: 1 MiB, afl-fuzz's own <c>MAX_FILE</c>.</summary>
    public const int DefaultMaxInputBytes = 1 << 20;

    /// <summary>Environment variable that overrides <see cref="AllocationBudgetBytes"/>.</summary>
    public const string AllocationBudgetVariable = "STREAMBENCH_FUZZ_ALLOC_BUDGET";

    /// <summary>
    /// Exception types (and their subclasses) that are the target's documented reaction to malformed input,
    /// e.g. <c>StreamBench.Formats.StreamFormatException</c>. An input that ends in one of them is not a failure.
    /// </summary>
    public IList<Type> ExpectedExceptions { get; } = new List<Type>();

    /// <summary>An additional predicate: an exception for which it returns true is expected.</summary>
    public Func<Exception, bool>? IsExpectedException { get; set; }

    /// <summary>
    /// Bytes the target may allocate on the fuzzing thread for one input
    /// (<see cref="GC.GetAllocatedBytesForCurrentThread"/> after minus before). More is a failure. 0 or less disables.
    /// </summary>
    public long AllocationBudgetBytes { get; set; } = DefaultAllocationBudgetBytes;

    /// <summary>Inputs longer than this are cut to this length (in every mode, so reproduction matches fuzzing).</summary>
    public int MaxInputBytes { get; set; } = DefaultMaxInputBytes;

    /// <summary>
    /// Run the very first input twice under afl-fuzz and keep only the second trace, so that one-time static
    /// initialisation does not make AFL report "instrumentation output varies across runs". Default true.
    /// </summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>Adds <typeparamref name="TException"/> to <see cref="ExpectedExceptions"/>.</summary>
    public FuzzOptions Expect<TException>() where TException : Exception
    {
        ExpectedExceptions.Add(typeof(TException));
        return this;
    }

    /// <summary>Whether <paramref name="exception"/> is an expected one (listed type or predicate).</summary>
    public bool IsExpected(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var types = ExpectedExceptions;
        for (var i = 0; i < types.Count; i++)
        {
            if (types[i].IsInstanceOfType(exception))
            {
                return true;
            }
        }
        return IsExpectedException?.Invoke(exception) ?? false;
    }

    /// <summary>
    /// Wraps <paramref name="action"/> so that it applies these options by itself: expected exceptions are
    /// swallowed and a budget overrun throws <see cref="AllocationBudgetExceededException"/>. The result is a plain
    /// <c>Action&lt;Stream&gt;</c> for which "any exception is a crash", which is SharpFuzz's contract: with the real
    /// SharpFuzz package, <c>SharpFuzz.Fuzzer.OutOfProcess.Run(options.Guard(target))</c> keeps the same verdicts.
    /// </summary>
    public Action<Stream> Guard(Action<Stream> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var options = WithEnvironmentOverrides();
        return stream =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                action(stream);
            }
            catch (Exception ex) when (options.IsExpected(ex))
            {
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (options.AllocationBudgetBytes > 0 && allocated > options.AllocationBudgetBytes)
            {
                throw new AllocationBudgetExceededException(allocated, options.AllocationBudgetBytes);
            }
        };
    }

    internal FuzzOptions WithEnvironmentOverrides()
    {
        var copy = new FuzzOptions
        {
            IsExpectedException = IsExpectedException,
            AllocationBudgetBytes = AllocationBudgetBytes,
            MaxInputBytes = MaxInputBytes > 0 ? MaxInputBytes : DefaultMaxInputBytes,
            WarmUp = WarmUp,
        };
        foreach (var t in ExpectedExceptions)
        {
            copy.ExpectedExceptions.Add(t);
        }
        var budget = Environment.GetEnvironmentVariable(AllocationBudgetVariable);
        if (!string.IsNullOrWhiteSpace(budget) && long.TryParse(budget, NumberStyles.Integer, CultureInfo.InvariantCulture, out var b))
        {
            copy.AllocationBudgetBytes = b;
        }
        return copy;
    }
}
