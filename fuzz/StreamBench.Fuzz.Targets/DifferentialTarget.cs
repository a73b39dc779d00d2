using System.Buffers.Binary;
using Kaitai;
using StreamBench.Formats;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// The <c>differential</c> target: the fast reader, the generated Kaitai parsers and the verifier's <c>xen</c> profile
/// over the same input (auto-detected format, upstream dictionary) must agree. Any disagreement throws
/// <see cref="DifferentialMismatchException"/>, which the fuzzer records as a crash. docs/FUZZING.md ("The
/// differential relation") states the rules; in short:
/// <list type="number">
/// <item>R1 framing: for every record the reader frames, Kaitai's per-record parser of the same layer at the same
/// offset reads the same type, length, body bytes and padding and ends at the same offset — or, when the record is
/// complete in the input, fails inside the body's substream (a body whose length does not fit its layout, which the
/// reader does not check). A record the reader finds cut short, Kaitai must fail on.</item>
/// <item>R2 accept ⇒ same records: when the whole-stream parser accepts, its record list (layer, type, length) is the
/// reader's, in order.</item>
/// <item>R3 clean end ⇒ accept: when the reader reaches a clean end (END, failover on a record boundary, or the input
/// ending on a record boundary), the headers carry the right magic (the reader checks none, Kaitai validates the libxl
/// ident and the libxc marker and id), no record failed R1 inside its body and the xl config fits its optional data,
/// the whole-stream parser accepts; when some record did fail inside its body, it rejects.</item>
/// <item>R4 truncation ⇒ reject: when the reader stops with a truncation, the whole-stream parser rejects.</item>
/// <item>V1: the verifier never throws; reader truncation ⇒ the xen profile rejects; unless a fatal finding stopped
/// the verifier early: reader truncation ⇔ the verifier's summary says truncated, and a clean reader end ⇒ the verifier
/// counted the reader's records.</item>
/// <item>V2: verifier xen-valid ⇒ Kaitai's header validations pass and every record that failed R1 inside its body is
/// of a type whose contents verify-stream-v2 does not check (HVM_CONTEXT, a 1-3 byte CHECKPOINT_STATE).</item>
/// </list>
/// R2-R4 are skipped where the two grammars legitimately differ: the whole-stream parsers are stateless, so a libxl
/// CHECKPOINT_END outside a checkpoint switches Kaitai (not the reader) to libxc records; Kaitai's repeat-until reads
/// at least one record, so a layer that ends right after its header fails there; xl_save_file.ksy reads the xl header
/// as little-endian whatever its byteorder says; an xl header without
/// STREAMv2 makes Kaitai keep the rest as an opaque legacy payload while the reader reads a bare libxc stream if one
/// follows. Kaitai does not validate padding, reserved fields, versions or record order, so those never count.
/// </summary>
internal static class DifferentialTarget
{
    private readonly record struct Rec(long Offset, StreamLayer Owner, uint Type, long Length, long ItemLength);

    private enum BodyParse
    {
        Ok,
        FailedInBody,
        FailedTruncated,
    }

    private static readonly VerifierOptions XenProfile = VerifierOptions.Create(VerificationProfile.Xen);

    public static void Run(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (XenStreamReader.DescribeContainer(span[..Math.Min(span.Length, ContainerWire.DetectionBytes)]) is not null)
        {
            // A zstd frame or a capture file (or a prefix of their magic) is not a stream: the reader refuses it by
            // design (the input seam opens containers) and no Kaitai description covers it, so there is nothing to compare.
            return;
        }
        var records = new List<Rec>();
        StreamFormatException? readerError = null;
        OuterFormat format;
        XlHeaderFields? xl = null;
        long xlOptionalAt = 0;
        var ending = StreamEnding.None;
        var headersValid = true; // the headers pass Kaitai's valid: keys (the reader checks no magic)
        var lastWasHeader = false; // the input ended right after a header, before the layer's first record
        using (var reader = XenStreamReader.FromMemory(data))
        {
            try
            {
                while (reader.Read())
                {
                    lastWasHeader = reader.Kind is StreamItemKind.LibxlHeader or StreamItemKind.LibxcDomainHeader;
                    if (reader.Kind == StreamItemKind.Record)
                    {
                        var owner = reader.Layer == StreamLayer.BackChannel
                            ? XenStreamReader.BackChannelOwner(reader.RecordType, reader.Dialect)
                            : reader.Layer;
                        records.Add(new Rec(reader.Offset, owner, reader.RecordType, reader.BodyLength, reader.ItemLength));
                    }
                    else if (reader.Kind == StreamItemKind.XlHeader)
                    {
                        xl = reader.XlHeader;
                        xlOptionalAt = reader.BodyOffset;
                    }
                    else if (reader.Kind == StreamItemKind.LibxlHeader)
                    {
                        headersValid &= reader.LibxlHeader!.Value.Ident == LibxlWire.Ident;
                    }
                    else if (reader.Kind == StreamItemKind.LibxcImageHeader)
                    {
                        var ih = reader.ImageHeader!.Value;
                        headersValid &= ih.Marker == LibxcWire.Marker && ih.Id == LibxcWire.Id;
                    }
                }
                ending = reader.Ending;
            }
            catch (StreamFormatException e)
            {
                if (!e.IsTruncation)
                {
                    throw new DifferentialMismatchException("the reader over memory threw a non-truncation error: " + e.Message, e);
                }
                readerError = e;
            }
            format = reader.DetectedFormat;
        }

        // R1: record by record.
        var failedInBody = new List<Rec>();
        foreach (var r in records)
        {
            var complete = r.Offset + r.ItemLength <= data.Length;
            var result = ParseRecord(data, r, complete);
            if (result == BodyParse.FailedInBody)
            {
                failedInBody.Add(r);
            }
        }

        // V1: the verifier (xen profile) never throws and sees the same framing — unless a fatal finding (a bad magic,
        // say) stopped it before the end.
        var verdict = Verifier.Verify(data, XenProfile);
        if (readerError is not null && verdict.IsValid)
        {
            throw new DifferentialMismatchException("the reader found a truncation, the xen profile accepts the stream");
        }
        var stopped = verdict.Findings.Any(f => VerificationChecks.Find(f.CheckId)?.Fatal == true) || verdict.FindingsDropped > 0;
        if (!stopped && readerError is not null && !verdict.Summary.Truncated)
        {
            throw new DifferentialMismatchException($"the reader stopped with a truncation at {readerError.Offset}, the verifier does not report one");
        }
        if (!stopped && readerError is null && verdict.Summary.Truncated)
        {
            throw new DifferentialMismatchException("the verifier reports a truncation, the reader ended cleanly: " + verdict.FirstError);
        }
        if (readerError is null && !stopped && verdict.Summary.Records != records.Count)
        {
            throw new DifferentialMismatchException($"the reader framed {records.Count} records, the verifier counted {verdict.Summary.Records}");
        }

        if (format is not (OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc))
        {
            return; // no whole-stream description for legacy images, the migrate receiver side or bare back channels
        }

        // R2-R4: the whole-stream parser.
        var xlLibxc = xl is { } h && (h.MandatoryFlags & XlMandatoryFlags.StreamV2) == 0;
        // Kaitai's repeat-until reads at least one record per layer: a layer cut right after its header parses in the
        // reader (MissingEnd) and fails in Kaitai.
        // xl_save_file.ksy reads the xl header as little-endian only; the reader honours a big-endian byteorder.
        var grammarsAgree = !xlLibxc && !lastWasHeader && xl is not { BigEndian: true } && KaitaiLayersAgree(records, data.Length, format);
        KaitaiStruct? tree = null;
        Exception? kaitaiError = null;
        try
        {
            tree = KaitaiParsers.Parse(data, format, StreamDialect.Upstream);
        }
        catch (Exception e) when (KaitaiTarget.IsInputError(e))
        {
            kaitaiError = e;
        }

        // V2: verify-stream-v2's checks cover Kaitai's validations and every body layout but HVM_CONTEXT's.
        if (verdict.IsValid)
        {
            // Only where both grammars read the same headers (see grammarsAgree).
            if (kaitaiError is ValidationFailedError v && grammarsAgree)
            {
                throw new DifferentialMismatchException("the xen profile accepts a stream whose header Kaitai rejects: " + v.Message);
            }
            foreach (var r in failedInBody)
            {
                if (!ContentUncheckedByVerify(r))
                {
                    throw new DifferentialMismatchException(
                        $"the xen profile accepts a {Name(r)} record at {r.Offset} ({r.Length} bytes) whose body does not fit its Kaitai layout");
                }
            }
        }

        if (xlLibxc)
        {
            return;
        }
        var xlConfigBroken = xl is { } x && !XlConfigFits(span, xlOptionalAt, x.OptionalDataLength);
        if (!grammarsAgree || xlConfigBroken || !headersValid)
        {
            return;
        }
        if (readerError is not null)
        {
            if (tree is not null)
            {
                throw new DifferentialMismatchException($"the reader found a truncation at {readerError.Offset}, Kaitai accepts the stream");
            }
            return;
        }
        if (ending is StreamEnding.Complete or StreamEnding.Failover or StreamEnding.MissingEnd)
        {
            if (failedInBody.Count == 0 && tree is null)
            {
                throw new DifferentialMismatchException($"the reader ends cleanly ({ending}), Kaitai rejects: {kaitaiError!.GetType().Name}: {kaitaiError.Message}");
            }
            if (failedInBody.Count > 0 && tree is not null)
            {
                throw new DifferentialMismatchException($"Kaitai accepts the whole stream but not the {Name(failedInBody[0])} record at {failedInBody[0].Offset} on its own");
            }
        }
        if (tree is not null)
        {
            CompareRecordLists(records, KaitaiRecords(tree));
        }
    }

    /// <summary>R1 for one record.</summary>
    private static BodyParse ParseRecord(ReadOnlyMemory<byte> data, Rec r, bool complete)
    {
        var io = new KaitaiStream(data);
        io.Seek(r.Offset);
        uint type;
        uint length;
        byte[] body;
        byte[] padding;
        try
        {
            if (r.Owner == StreamLayer.Libxl)
            {
                var k = new LibxlStream.LibxlRecord(io);
                (type, length, body, padding) = ((uint)k.Type, k.Length, k.M_RawBody ?? (byte[])k.Body, k.Padding);
            }
            else
            {
                var k = new LibxcStream.LibxcRecord(io);
                (type, length, body, padding) = ((uint)k.Type, k.Length, k.M_RawBody ?? (byte[])k.Body, k.Padding);
            }
        }
        catch (Exception e) when (KaitaiTarget.IsInputError(e))
        {
            if (!complete)
            {
                return BodyParse.FailedTruncated;
            }
            if (io.Pos == r.Offset + Framing.RecordHeaderSize + r.Length)
            {
                return BodyParse.FailedInBody;
            }
            throw new DifferentialMismatchException(
                $"Kaitai fails at {io.Pos} framing the complete {Name(r)} record at {r.Offset} (length {r.Length}): {e.GetType().Name}: {e.Message}");
        }
        if (!complete)
        {
            throw new DifferentialMismatchException($"the reader finds the record at {r.Offset} cut short, Kaitai parses it");
        }
        var span = data.Span;
        var bodyAt = (int)r.Offset + Framing.RecordHeaderSize;
        if (type != r.Type || length != r.Length || io.Pos != r.Offset + r.ItemLength
            || !span.Slice(bodyAt, (int)r.Length).SequenceEqual(body)
            || !span.Slice(bodyAt + (int)r.Length, padding.Length).SequenceEqual(padding)
            || padding.Length != Framing.PaddingFor((uint)r.Length))
        {
            throw new DifferentialMismatchException(
                $"record at {r.Offset}: reader type 0x{r.Type:x} length {r.Length} ending at {r.Offset + r.ItemLength}, Kaitai type 0x{type:x} length {length} ending at {io.Pos}");
        }
        return BodyParse.Ok;
    }

    /// <summary>Records whose contents verify-stream-v2 (and so the xen profile) does not look into but Kaitai parses.</summary>
    private static bool ContentUncheckedByVerify(Rec r) => r.Owner switch
    {
        // HVM_CONTEXT: verify only requires a non-empty body (Xen's hvm_load parses it); X86_PV_VCPU_MSRS: verify checks
        // the 8-octet header, not that the rest is a whole number of 16-octet MSR entries (the C restore does).
        StreamLayer.Libxc => r.Type is (uint)LibxcRecordType.HvmContext or (uint)LibxcRecordType.X86PvVcpuMsrs,
        // verify only requires a non-empty body; Kaitai reads a u32 control_id.
        StreamLayer.Libxl => r.Type == (uint)LibxlRecordType.CheckpointState && r.Length < 4,
        _ => false,
    };

    private static bool XlConfigFits(ReadOnlySpan<byte> data, long at, uint optionalLength)
    {
        if (optionalLength < 4 || at + 4 > data.Length)
        {
            return true; // xl_save_file.ksy reads the config only when at least 4 octets are present
        }
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data[(int)at..]);
        return XlOptionalData.ConfigFitsIn(size, optionalLength);
    }

    /// <summary>
    /// Runs the stateless whole-stream grammar (libxl_stream.ksy / libxc_stream.ksy) over the reader's record types and
    /// says whether it puts every record in the same layer as the reader does.
    /// </summary>
    private static bool KaitaiLayersAgree(List<Rec> records, long inputLength, OuterFormat format)
    {
        var inLibxc = format == OuterFormat.Libxc;
        foreach (var r in records)
        {
            var layer = inLibxc ? StreamLayer.Libxc : StreamLayer.Libxl;
            if (layer != r.Owner)
            {
                return false;
            }
            if (inLibxc)
            {
                if (r.Type == (uint)LibxcRecordType.End || (format != OuterFormat.Libxc && r.Type == (uint)LibxcRecordType.Checkpoint))
                {
                    if (format == OuterFormat.Libxc)
                    {
                        return true; // Kaitai stops at the bare stream's END
                    }
                    inLibxc = false;
                }
            }
            else if (r.Type == (uint)LibxlRecordType.End)
            {
                return true; // Kaitai stops at the libxl END
            }
            else if (r.Type == (uint)LibxlRecordType.LibxcContext
                || (r.Type == (uint)LibxlRecordType.CheckpointEnd && r.Offset + r.ItemLength < inputLength))
            {
                inLibxc = true;
            }
        }
        return true;
    }

    private static List<(StreamLayer Layer, uint Type, long Length)> KaitaiRecords(KaitaiStruct tree)
    {
        var list = new List<(StreamLayer, uint, long)>();
        switch (tree)
        {
            case XlSaveFile xl:
                if (xl.Libxl is not null)
                {
                    AddLibxl(list, xl.Libxl);
                }
                break;
            case LibxlStream libxl:
                AddLibxl(list, libxl);
                break;
            case LibxcStream libxc:
                foreach (var r in libxc.Records)
                {
                    list.Add((StreamLayer.Libxc, (uint)r.Type, r.Length));
                }
                break;
        }
        return list;
    }

    private static void AddLibxl(List<(StreamLayer, uint, long)> list, LibxlStream libxl)
    {
        foreach (var e in libxl.Entries)
        {
            list.Add((StreamLayer.Libxl, (uint)e.Record.Type, e.Record.Length));
            foreach (var segment in new[] { e.Libxc, e.LibxcCheckpoint })
            {
                if (segment is null)
                {
                    continue;
                }
                foreach (var r in segment.Records)
                {
                    list.Add((StreamLayer.Libxc, (uint)r.Type, r.Length));
                }
            }
        }
    }

    private static void CompareRecordLists(List<Rec> reader, List<(StreamLayer Layer, uint Type, long Length)> kaitai)
    {
        if (kaitai.Count > reader.Count)
        {
            throw new DifferentialMismatchException($"Kaitai lists {kaitai.Count} records, the reader {reader.Count}");
        }
        for (var i = 0; i < kaitai.Count; i++)
        {
            var (layer, type, length) = kaitai[i];
            var r = reader[i];
            if (layer != r.Owner || type != r.Type || length != r.Length)
            {
                throw new DifferentialMismatchException(
                    $"record #{i}: reader {r.Owner} 0x{r.Type:x} length {r.Length}, Kaitai {layer} 0x{type:x} length {length}");
            }
        }
        // Kaitai stops at the outermost END; the reader frames no records after it either.
        if (kaitai.Count < reader.Count)
        {
            throw new DifferentialMismatchException($"Kaitai accepts the stream with {kaitai.Count} records, the reader frames {reader.Count}");
        }
    }

    private static string Name(Rec r) => RecordDictionary.For(r.Owner, StreamDialect.Upstream).Name(r.Type);
}
