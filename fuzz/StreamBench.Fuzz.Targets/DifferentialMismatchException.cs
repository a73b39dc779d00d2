namespace StreamBench.Fuzz.Targets;

/// <summary>
/// Two views of the same input disagree (reader over memory vs over a pipe, reader vs Kaitai, reader vs verifier,
/// converter output vs reader). Never expected: the fuzzer records it as a crash.
/// </summary>
public sealed class DifferentialMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DifferentialMismatchException(string message) : base(message)
    {
    }

    /// <summary>Required by CA1032.</summary>
    public DifferentialMismatchException() : base("the views disagree")
    {
    }

    /// <summary>Required by CA1032.</summary>
    public DifferentialMismatchException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
