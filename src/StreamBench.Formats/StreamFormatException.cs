using System.Globalization;
using StreamBench.Formats.Verification;

namespace StreamBench.Formats;

/// <summary>
/// The one error type for malformed stream input. It names the byte offset, the layer, the record
/// (index and type name) and the field, so that an operator can find the bad bytes with a hex editor.
/// Every other exception type escaping a parser is a bug (the fuzzers count it as a crash).
/// </summary>
public sealed class StreamFormatException : FormatException
{
    /// <summary>Creates the error.</summary>
    public StreamFormatException(string problem, long offset, ErrorLayer layer, long recordIndex = -1,
        string? recordType = null, string? field = null, bool truncated = false, Exception? inner = null,
        VerificationCheck? check = null)
        : base(Format(problem, offset, layer, recordIndex, recordType, field), inner)
    {
        Check = check;
        Problem = problem;
        Offset = offset;
        Layer = layer;
        RecordIndex = recordIndex;
        RecordType = recordType;
        Field = field;
        IsTruncation = truncated;
    }

    /// <summary>Required by CA1032; prefer the full constructor.</summary>
    public StreamFormatException() : this("malformed stream", 0, ErrorLayer.Stream) { }

    /// <summary>Required by CA1032; prefer the full constructor.</summary>
    public StreamFormatException(string message) : this(message, 0, ErrorLayer.Stream) { }

    /// <summary>Required by CA1032; prefer the full constructor.</summary>
    public StreamFormatException(string message, Exception innerException) : this(message, 0, ErrorLayer.Stream, inner: innerException) { }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    /// <summary>Absolute byte offset of the bad bytes in the input.</summary>
    public long Offset { get; }

    /// <summary>The layer where the bad bytes are (a stream layer, or the container around the stream).</summary>
    public ErrorLayer Layer { get; }

    /// <summary>Index of the record in the whole stream (0-based), or -1 outside records.</summary>
    public long RecordIndex { get; }

    /// <summary>The record type's name, when known.</summary>
    public string? RecordType { get; }

    /// <summary>The field at fault, when known.</summary>
    public string? Field { get; }

    /// <summary>
    /// The check that refused the input, when one did (the restore engine names one for every refusal; the reader
    /// names none). Compare checks by reference: <c>e.Check == LibxcChecks.PageDataLength</c>.
    /// </summary>
    public VerificationCheck? Check { get; }

    /// <summary>Whether the input simply ended too early.</summary>
    public bool IsTruncation { get; }

    private static string Format(string problem, long offset, ErrorLayer layer, long recordIndex, string? recordType, string? field)
    {
        var where = string.Create(CultureInfo.InvariantCulture, $"offset {offset} (0x{offset:x}), {layer.Name()}");
        if (recordIndex >= 0)
        {
            where += string.Create(CultureInfo.InvariantCulture, $" record #{recordIndex}");
        }
        if (recordType is not null)
        {
            where += " " + recordType;
        }
        if (field is not null)
        {
            where += ", field " + field;
        }
        return where + ": " + problem;
    }
}
