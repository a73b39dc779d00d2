namespace StreamBench.Fuzz.Smoke.Toy;

/// <summary>The toy format's one error for malformed input (the stand-in for StreamFormatException).</summary>
internal sealed class ToyFormatException : FormatException
{
    public ToyFormatException()
    {
    }

    public ToyFormatException(string message) : base(message)
    {
    }

    public ToyFormatException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
