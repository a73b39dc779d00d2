namespace StreamBench.Domain;

/// <summary>
/// An operation on a domain was refused: the domain state (or the data handed to it) does not
/// allow it. The message names the object and the value, as Xen's ERROR() lines do.
/// </summary>
public class DomainException : InvalidOperationException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public DomainException() : base("domain operation refused") { }

    /// <summary>Creates an exception with the given message.</summary>
    public DomainException(string message) : base(message) { }

    /// <summary>Creates an exception with the given message and cause.</summary>
    public DomainException(string message, Exception innerException) : base(message, innerException) { }
}
