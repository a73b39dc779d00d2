using StreamBench.Formats.Streams;

namespace StreamBench.Formats.Verification;

/// <summary>
/// Verifies a Xen save/migration stream against a profile (<see cref="VerificationProfile"/>): verify-stream-v2's
/// checks (<c>xen</c>), plus the C restore's (<c>restore</c>), plus structure and ordering (<c>strict</c>, the default).
/// <para>
/// It drives <see cref="XenStreamReader"/> over every layer, reads only the parts of bodies it needs (never page
/// contents: PAGE_DATA is checked from its header and pfn words, the rest is skipped), turns
/// <see cref="StreamFormatException"/> (truncation) into a finding, never allocates by a length read from the stream,
/// and keeps no per-record state, so memory does not grow with the stream. Bad input never makes it throw.
/// </para>
/// The rules live in one class per layer (<c>XlRules</c>, <c>LibxlRules</c>, <c>LibxcRules</c>, <c>PostcopyRules</c>,
/// <c>BackChannelRules</c>, <c>StreamRules</c>); <see cref="VerificationChecks"/> lists every check and its profiles.
/// </summary>
public static class Verifier
{
    /// <summary>Verifies a file ("-" for standard input). Regular files are memory-mapped.</summary>
    public static VerifyResult Verify(string path, VerifierOptions? options = null)
    {
        using var source = ByteSource.Open(path);
        return Verify(source, options);
    }

    /// <summary>Verifies bytes in memory.</summary>
    public static VerifyResult Verify(ReadOnlyMemory<byte> bytes, VerifierOptions? options = null)
    {
        using var source = ByteSource.FromMemory(bytes);
        return Verify(source, options);
    }

    /// <summary>Verifies a stream (pipes and sockets go through one reusable buffer).</summary>
    public static VerifyResult Verify(Stream stream, VerifierOptions? options = null)
    {
        using var source = ByteSource.FromStream(stream);
        return Verify(source, options);
    }

    /// <summary>Verifies what <paramref name="source"/> holds from its current position (the source is not disposed).</summary>
    public static VerifyResult Verify(ByteSource source, VerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new VerifierOptions();
        using var reader = new XenStreamReader(source, options.Reader, ownsSource: false);
        return Verify(reader, options);
    }

    /// <summary>Verifies with a reader that has not been read yet (its options decide format and dialect).</summary>
    public static VerifyResult Verify(XenStreamReader reader, VerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new VerifierOptions();
        var ctx = new VerificationContext(reader, options);
        var stream = new StreamRules(ctx);
        var xl = new XlRules(ctx);
        var libxl = new LibxlRules(ctx);
        var libxc = new LibxcRules(ctx, libxl);
        var back = new BackChannelRules(ctx, libxl, libxc.Postcopy);

        // The xl magic is behind the reader once it has read the header: peek it first (this consumes nothing).
        ctx.XlMagicOk = XenStreamReader.DetectFormat(reader.Source) == OuterFormat.Xl;
        var lastKind = StreamItemKind.None;
        var lastLayer = StreamLayer.None;
        try
        {
            while (!ctx.Stopped && reader.Read())
            {
                if (reader.Layer != lastLayer)
                {
                    lastLayer = reader.Layer;
                    ctx.Summary.SeeLayer(lastLayer);
                }
                switch (reader.Kind)
                {
                    case StreamItemKind.Record:
                        var checkPadding = reader.Layer switch
                        {
                            StreamLayer.Libxc => libxc.Record(),
                            StreamLayer.Libxl => libxl.Record(),
                            _ => back.Record(),
                        };
                        var padding = reader.FinishItem();
                        ctx.AfterRecord();
                        if (checkPadding && padding.IndexOfAnyExcept((byte)0) is var bad && bad >= 0)
                        {
                            var check = reader.Layer switch
                            {
                                StreamLayer.Libxc => LibxcChecks.Padding,
                                StreamLayer.Libxl => LibxlChecks.Padding,
                                _ => BackChannelChecks.Padding,
                            };
                            ctx.ReportInBody(check, reader.BodyLength + bad, "padding", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                                $"expected {padding.Length} zero padding bytes, found 0x{padding[bad]:x2} at padding byte {bad}"));
                        }
                        break;
                    case StreamItemKind.XlHeader:
                        ctx.Summary.Format = reader.DetectedFormat;
                        xl.Header();
                        break;
                    case StreamItemKind.LibxlHeader:
                        ctx.Summary.Format = reader.DetectedFormat;
                        libxl.Header();
                        break;
                    case StreamItemKind.LibxcImageHeader:
                        ctx.Summary.Format = reader.DetectedFormat;
                        if (lastKind == StreamItemKind.XlHeader)
                        {
                            xl.LibxcFollows();
                        }
                        libxc.ImageHeader();
                        break;
                    case StreamItemKind.LibxcDomainHeader:
                        libxc.DomainHeader();
                        break;
                    case StreamItemKind.ProtocolMessage:
                        ctx.Summary.Format = reader.DetectedFormat;
                        stream.Message();
                        break;
                    case StreamItemKind.TrailingData:
                        stream.Trailing();
                        break;
                    case StreamItemKind.LegacyImage:
                        ctx.Summary.Format = reader.DetectedFormat;
                        stream.LegacyImage();
                        break;
                }
                lastKind = reader.Kind;
            }
            if (!ctx.Stopped)
            {
                stream.Ended(reader.Ending);
            }
            else
            {
                ctx.Summary.Length = ctx.InputLength;
            }
        }
        catch (StreamFormatException e)
        {
            stream.Threw(e);
        }
        if (ctx.Summary.Format == OuterFormat.Auto)
        {
            ctx.Summary.Format = reader.DetectedFormat;
        }
        return new VerifyResult(options.Profile, ctx.Findings, ctx.Errors, ctx.Warnings, ctx.Infos, ctx.Dropped, ctx.Summary);
    }
}
