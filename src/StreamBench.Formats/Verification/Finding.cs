using System.Globalization;
using System.Text;

namespace StreamBench.Formats.Verification;

/// <summary>
/// One thing the verifier found: where (absolute byte offset, record index, record type, layer, field), how bad, which
/// check, and a message that says what was expected and what was found.
/// </summary>
/// <param name="Severity">Error, warning or info.</param>
/// <param name="Offset">Absolute offset of the bytes at fault (the field when known, else the record or header).</param>
/// <param name="RecordIndex">Index of the record in the whole stream (0-based, as the reader counts), or -1 for headers.</param>
/// <param name="RecordType">The record type's spec name (or the header/item name), when known.</param>
/// <param name="Layer">The layer at fault; text and JSON print its <see cref="ErrorLayers.Name"/> (xl, libxl, libxc, back-channel, migrate, legacy, stream...).</param>
/// <param name="Field">The field at fault, when there is one.</param>
/// <param name="Message">What was expected and what was found.</param>
/// <param name="CheckId">The check that fired (see <see cref="VerificationChecks"/>).</param>
public sealed record Finding(FindingSeverity Severity, long Offset, long RecordIndex, string? RecordType, ErrorLayer Layer, string? Field,
    string Message, string CheckId)
{
    /// <summary>One line: <c>error @0x1234 libxc #5 PAGE_DATA count: message [check]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Severity.ToString().ToLowerInvariant());
        sb.Append(CultureInfo.InvariantCulture, $" @{Offset} (0x{Offset:x}) {Layer.Name()}");
        if (RecordIndex >= 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $" #{RecordIndex}");
        }
        if (RecordType is not null)
        {
            sb.Append(' ').Append(RecordType);
        }
        if (Field is not null)
        {
            sb.Append(' ').Append(Field);
        }
        sb.Append(": ").Append(Message).Append(" [").Append(CheckId).Append(']');
        return sb.ToString();
    }
}
