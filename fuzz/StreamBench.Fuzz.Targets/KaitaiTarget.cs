using System.Buffers.Binary;
using Kaitai;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// The <c>kaitai</c> target: every generated parser over the input, with every lazy instance evaluated.
/// </summary>
/// <remarks>
/// Expected exceptions (<see cref="IsInputError"/>): the generated parsers report bad input with the Kaitai runtime's
/// own types, not <c>StreamFormatException</c> — <see cref="EndOfStreamException"/> (a read past the end of the
/// input or of a body's substream: truncation, or a body whose length does not fit its layout),
/// <see cref="KaitaiStructError"/> and its <see cref="ValidationFailedError"/> subclasses (a <c>valid:</c> key: the
/// libxc marker and id, the libxl ident, the xl magic), and the <see cref="ArgumentOutOfRangeException"/> that
/// <see cref="KaitaiStream.ReadBytes(long)"/> throws, before reading, for a u4 length above <see cref="int.MaxValue"/>
/// (a record claiming 2-4 GiB cannot be held by an in-memory KaitaiStream; the same exception from anywhere else is
/// a crash). The throwing method is matched by namespace (Kaitai), not by type: once the JIT inlines ReadBytes into a
/// generated parser, <see cref="Exception.TargetSite"/> is the parser's method, so a type test would make the verdict
/// depend on tiering (seen as crashes that did not reproduce outside the fork server). Everything else — <see cref="NullReferenceException"/>, <see cref="InvalidCastException"/>,
/// <see cref="DivideByZeroException"/>, <see cref="IndexOutOfRangeException"/>, an allocation over budget — is a bug
/// in a .ksy, in the code generator or in the runtime.
/// </remarks>
internal static class KaitaiTarget
{
    /// <summary>Whether <paramref name="e"/> is how the Kaitai runtime reports bad input (see the remarks).</summary>
    public static bool IsInputError(Exception e) => e is EndOfStreamException or KaitaiStructError or UndecidedEndiannessError
        || (e is ArgumentOutOfRangeException { ParamName: "count" } a && a.TargetSite?.DeclaringType?.Namespace == "Kaitai");

    public static void Run(ReadOnlyMemory<byte> data)
    {
        var format = XenStreamReader.DetectFormat(ByteSource.FromMemory(data));
        switch (format)
        {
            case OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc:
                // Both dictionaries: upstream (xl_save_file / libxl_stream / libxc_stream) and the post-copy RFC's.
                Guarded(() => KaitaiWalk.Walk(KaitaiParsers.Parse(data, format, StreamDialect.Upstream)));
                Guarded(() => KaitaiWalk.Walk(KaitaiParsers.Parse(data, format, StreamDialect.PostcopyRfc)));
                break;
            case OuterFormat.Legacy:
                // legacy_stream.ksy with the width and guest type guessed from the first octets, as dump --kaitai does.
                Guarded(() => KaitaiWalk.Walk(KaitaiParsers.Parse(data, format, StreamDialect.Upstream)));
                break;
            default:
                // The migrate receiver side: after the protocol text, bare back-channel records (upstream and RFC).
                Records(data, SkipMessages(data.Span), rfc: false);
                Records(data, SkipMessages(data.Span), rfc: true);
                break;
        }
    }

    /// <summary>Runs one parse; an expected Kaitai error ends only that parse, so the next parser still runs.</summary>
    private static void Guarded(Action parse)
    {
        try
        {
            parse();
        }
        catch (Exception e) when (IsInputError(e))
        {
        }
    }

    private static int SkipMessages(ReadOnlySpan<byte> data)
    {
        var at = 0;
        while (true)
        {
            var rest = data[at..];
            if (rest.StartsWith(XlMigrateProtocol.ReceiverBanner))
            {
                at += XlMigrateProtocol.ReceiverBanner.Length;
            }
            else if (rest.StartsWith(XlMigrateProtocol.ReceiverReady))
            {
                at += XlMigrateProtocol.ReceiverReady.Length;
            }
            else if (rest.StartsWith(XlMigrateProtocol.Report) && rest.Length > XlMigrateProtocol.Report.Length)
            {
                at += XlMigrateProtocol.Report.Length + 1;
            }
            else
            {
                return at;
            }
        }
    }

    /// <summary>Bare records with the per-record parsers (the layer is chosen per record type, as the reader does).</summary>
    private static void Records(ReadOnlyMemory<byte> data, int start, bool rfc)
    {
        Guarded(() =>
        {
            var io = new KaitaiStream(data);
            io.Seek(start);
            while (!io.IsEof)
            {
                var type = data.Length - io.Pos >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(data.Span[(int)io.Pos..]) : 0u;
                var libxl = type == (uint)LibxlRecordType.CheckpointState;
                KaitaiStruct record = (libxl, rfc) switch
                {
                    (true, false) => new LibxlStream.LibxlRecord(io),
                    (true, true) => new PostcopyRfc.RfcLibxlRecord(io),
                    (false, false) => new LibxcStream.LibxcRecord(io),
                    _ => new PostcopyRfc.RfcLibxcRecord(io),
                };
                KaitaiWalk.Walk(record);
            }
        });
    }
}
