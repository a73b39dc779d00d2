namespace StreamBench.Cli.Commands;

/// <summary>
/// Input the command cannot use that is not a stream error with an offset (for instance the config an xl header
/// carries): <see cref="CommandGuard"/> prints its message as it is and exits 1, as for an invalid stream.
/// </summary>
internal sealed class InvalidInputException : Exception
{
    public InvalidInputException()
    {
    }

    public InvalidInputException(string message) : base(message)
    {
    }

    public InvalidInputException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
