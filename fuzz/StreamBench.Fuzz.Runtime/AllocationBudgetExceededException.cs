namespace StreamBench.Fuzzing;

/// <summary>Thrown by <see cref="FuzzOptions.Guard"/> when one input made the target allocate more than the budget.</summary>
public sealed class AllocationBudgetExceededException : Exception
{
    /// <summary>Creates the error for <paramref name="allocated"/> bytes against <paramref name="budget"/>.</summary>
    public AllocationBudgetExceededException(long allocated, long budget)
        : base($"allocated {allocated} bytes for one input; the budget is {budget}")
    {
        AllocatedBytes = allocated;
        BudgetBytes = budget;
    }

    /// <summary>Required by CA1032.</summary>
    public AllocationBudgetExceededException() : base("allocation budget exceeded")
    {
    }

    /// <summary>Required by CA1032.</summary>
    public AllocationBudgetExceededException(string message) : base(message)
    {
    }

    /// <summary>Required by CA1032.</summary>
    public AllocationBudgetExceededException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Bytes allocated on the fuzzing thread for the input.</summary>
    public long AllocatedBytes { get; }

    /// <summary>The budget in force.</summary>
    public long BudgetBytes { get; }
}
