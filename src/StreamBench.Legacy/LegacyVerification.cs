using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;

namespace StreamBench.Formats.Verification;

/// <summary>
/// Verifies a legacy (pre-4.6) image the way libxl restores one: it is converted on the fly to a v3 libxl stream
/// (as libxl's conversion helper does) and the converted stream is verified with the chosen profile. A legacy
/// structural error is reported at its offset in the legacy input; findings about the converted stream name
/// offsets in that stream and say so in their message.
/// </summary>
public static class LegacyVerification
{
    /// <summary>Converts and verifies. The source is read from its current position and not disposed.</summary>
    public static VerifyResult Verify(ByteSource source, LegacyStreamReaderOptions legacy, VerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(legacy);
        ArgumentNullException.ThrowIfNull(options);
        using var conversion = LegacyOnTheFly.Start(source, legacy);
        var converted = Verifier.Verify(ByteSource.FromStream(conversion.Converted), options with
        {
            Reader = options.Reader with { Format = OuterFormat.Libxl },
        });
        var legacyError = conversion.Finish();

        var findings = new List<Finding>();
        long errors = 0;
        if (legacyError is not null)
        {
            findings.Add(new Finding(FindingSeverity.Error, legacyError.Offset, legacyError.RecordIndex, legacyError.RecordType, ErrorLayer.Legacy,
                legacyError.Field, legacyError.Problem, "legacy.structure"));
            errors++;
        }
        foreach (var f in converted.Findings)
        {
            // Once the legacy input is broken, the converted stream's truncation is a consequence, not news.
            if (legacyError is not null && f.Severity == FindingSeverity.Error && VerificationChecks.Find(f.CheckId)?.Layer == CheckLayer.Stream)
            {
                continue;
            }
            findings.Add(f with { Message = "in the converted v3 stream: " + f.Message });
            if (f.Severity == FindingSeverity.Error)
            {
                errors++;
            }
        }
        return new VerifyResult(converted.Profile, findings, errors, converted.WarningCount, converted.InfoCount, converted.FindingsDropped, converted.Summary);
    }
}
