using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The output layer of <see cref="LegacyConverter"/> (convert-legacy-stream -f).</summary>
public enum LegacyOutputFormat
{
    /// <summary>A bare libxc v3 stream (the QEMU record, if read, is passed through raw after END).</summary>
    Libxc,
    /// <summary>A libxl v2 stream with the LEGACY option bit, wrapping the libxc v3 stream.</summary>
    Libxl,
}

/// <summary>Options of <see cref="LegacyConverter"/>; the first five mirror convert-legacy-stream's flags.</summary>
public sealed record LegacyConverterOptions
{
    /// <summary>-w: the legacy toolstack width (Auto detects it; Xen's converter requires it).</summary>
    public LegacyWidth Width { get; init; } = LegacyWidth.Auto;

    /// <summary>-g: the guest type (Auto detects it; Xen's converter requires it).</summary>
    public LegacyGuestType GuestType { get; init; } = LegacyGuestType.Auto;

    /// <summary>-f: libxc (default) or libxl.</summary>
    public LegacyOutputFormat Format { get; init; } = LegacyOutputFormat.Libxc;

    /// <summary>-x: an xl save-file header precedes the image; it is copied through (with STREAMv2 set for libxl output).</summary>
    public bool XlHeader { get; init; }

    /// <summary>--skip-qemu: do not read the QEMU record. Only honoured for libxc output, as in Xen's converter.</summary>
    public bool SkipQemu { get; init; }

    /// <summary>
    /// Accept an HVM image that ends right after its tail, with no QEMU record (PV-on-HVM saves without a device
    /// model). Xen's converter requires the record unless --skip-qemu; restore and verify use this to read both.
    /// </summary>
    public bool QemuRecordOptional { get; init; }

    /// <summary>
    /// Convert Remus checkpoints after the first image into a checkpointed v3 stream (CHECKPOINT records; for libxl
    /// output also CHECKPOINT_END). Off by default: like Xen's converter, stop after the first image.
    /// </summary>
    public bool Checkpoints { get; init; }

    /// <summary>Pages of previous contents kept for decoding compressed checkpoints.</summary>
    public int CompressionCacheCapacity { get; init; } = 2 * LegacyPageCompression.SenderCachePages;

    /// <summary>The largest toolstack blob parsed in libxl mode.</summary>
    public int MaxToolstackBlob { get; init; } = 16 << 20;

    /// <summary>The most EMULATOR_XENSTORE_DATA bytes gathered from toolstack blobs.</summary>
    public int MaxXenstoreData { get; init; } = 64 << 20;

    /// <summary>The most HVM params gathered from chunks in one body.</summary>
    public int MaxHvmParams { get; init; } = 1 << 16;

    /// <summary>The largest QEMU record of unknown length ("QemuDeviceModelRecord" through a pipe) buffered for libxl output.</summary>
    public int MaxBufferedQemuRecord { get; init; } = 256 << 20;

    /// <summary>
    /// With <see cref="Checkpoints"/>: the largest record of a checkpoint after the first that is read whole before it
    /// is written, so that a failover (the input ending inside that checkpoint) leaves the output at a record boundary.
    /// The buffer grows only as input arrives. A larger record (an HVM context or QEMU record above this size) is
    /// streamed, unless the input's length is known and it ends before the record does (the record is then read to
    /// the end and not written); only through a pipe can a failover inside such a record leave the output inside it.
    /// </summary>
    public int MaxHeldCheckpointRecord { get; init; } = 64 << 20;

    /// <summary>
    /// --sparse: when the output is a regular file written at its end, leave runs of all-zero pages as holes (seek over
    /// them) instead of writing them. The bytes read back are the same; the file takes less space. Off by default: the
    /// zero test reads every page, and on ext4 the holes cost more than the writes they save (docs/LEGACY.md 5).
    /// </summary>
    public bool SparseOutput { get; init; }
}

/// <summary>What a conversion did.</summary>
public sealed record LegacyConversionResult
{
    /// <summary>The toolstack width used.</summary>
    public LegacyWidth Width { get; init; }

    /// <summary>The guest type used.</summary>
    public LegacyGuestType GuestType { get; init; }

    /// <summary>Complete images converted (1, plus Remus checkpoints with <see cref="LegacyConverterOptions.Checkpoints"/>).</summary>
    public int Images { get; init; }

    /// <summary>PAGE_DATA records written.</summary>
    public long PageDataRecords { get; init; }

    /// <summary>Pages of data written.</summary>
    public long Pages { get; init; }

    /// <summary>Pages decoded from COMPRESSED_DATA.</summary>
    public long DecompressedPages { get; init; }

    /// <summary>Bytes written.</summary>
    public long BytesWritten { get; init; }

    /// <summary>Bytes of zero pages left as holes in the output file rather than written (they read back as zeros).</summary>
    public long HoleBytes { get; init; }

    /// <summary>Input was left after the converted image (Xen's converter ignores it too).</summary>
    public bool TrailingDataIgnored { get; init; }

    /// <summary>A Remus stream stopped inside a checkpoint; that checkpoint's complete records end the output unterminated.</summary>
    public bool Failover { get; init; }

    /// <summary>
    /// On a failover: the legacy item (PAGE_BATCH, PV_TAIL_VCPU_BASIC, HVM_TAIL_CONTEXT, QEMU_RECORD, ...) the end of
    /// the input cut while its record was being read; that record was not written. Null when the input ended between
    /// items.
    /// </summary>
    public string? PartialItemDropped { get; init; }

    /// <summary>QEMU records of checkpoints dropped because libxc output has no place for them.</summary>
    public int QemuRecordsDropped { get; init; }
}

/// <summary>
/// Converts a legacy image to a v3 libxc stream, optionally wrapped in a libxl v2 stream, exactly as Xen's
/// convert-legacy-stream does: for every input that tool accepts, the output is byte for byte the same. Where it
/// refuses, this converter either converts (docs/LEGACY.md lists each case) or fails with a
/// <see cref="StreamFormatException"/> naming the chunk, the offset and the field. The input is streamed: page data
/// goes from the source to the output without a per-page copy, and memory does not grow with the stream.
/// </summary>
public static class LegacyConverter
{
    /// <summary>Converts <paramref name="input"/> to <paramref name="output"/>. <paramref name="log"/> receives -v lines.</summary>
    public static LegacyConversionResult Convert(ByteSource input, Stream output, LegacyConverterOptions options, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        // --sparse, to a regular file at its end: runs of zero pages become holes (the bytes read back are the same).
        using var writer = options.SparseOutput
            ? XenStreamWriter.ForFile(output, leaveOpen: true, bufferSize: 1 << 16)
            : new XenStreamWriter(output, leaveOpen: true, bufferSize: 1 << 16);
        using var conversion = new Conversion(input, writer, options, log);
        var result = conversion.Run();
        writer.Flush();
        return result with { BytesWritten = writer.Position, HoleBytes = writer.HoleBytes };
    }

    /// <summary>Converts bytes in memory (tests).</summary>
    public static byte[] Convert(ReadOnlyMemory<byte> input, LegacyConverterOptions options)
    {
        using var source = ByteSource.FromMemory(input);
        using var ms = new MemoryStream();
        Convert(source, ms, options);
        return ms.ToArray();
    }

    private sealed class Conversion(ByteSource src, XenStreamWriter w, LegacyConverterOptions o, TextWriter? log) : IDisposable
    {
        private readonly bool _libxl = o.Format == LegacyOutputFormat.Libxl;
        private readonly ulong[] _words = new ulong[LegacyWire.MaxBatch];
        private readonly ulong[] _sorted = new ulong[LegacyWire.MaxBatch];
        private readonly byte[] _scratch = new byte[1 << 16];
        private readonly ulong[] _frames = new ulong[4096];
        private readonly List<ulong> _hvmParams = [];
        private readonly MemoryStream _xenstore = new();
        private LegacyStreamReader _r = null!;
        private LegacyCompressedPageDecoder? _decoder;
        private ulong[]? _outWords;
        private byte[]? _outPages;
        private int _outCount;
        private int _outPageCount;
        private long _pageRecords;
        private long _pages;
        private int _images;
        private int _qemuDropped;
        private bool _failover;
        private string? _partialItem;
        private bool _awaitQemu;
        private byte[] _held = [];
        private int _heldLength;
        private string? _holdingItem;

        public LegacyConversionResult Run()
        {
            if (o.XlHeader)
            {
                CopyXlHeader();
            }
            var readerOptions = new LegacyStreamReaderOptions
            {
                Width = o.Width,
                GuestType = o.GuestType,
                Semantics = LegacySemantics.XenConverter,
                // Xen's converter reads the QEMU record unless --skip-qemu in libxc mode (it ignores --skip-qemu for libxl).
                QemuRecord = o.QemuRecordOptional ? LegacyQemuRecordHandling.Auto
                    : _libxl || !o.SkipQemu ? LegacyQemuRecordHandling.Require : LegacyQemuRecordHandling.Skip,
                StopAfterFirstImage = !o.Checkpoints,
            };
            _r = new LegacyStreamReader(src, readerOptions);
            try
            {
                while (_r.Read())
                {
                    Item();
                }
            }
            catch (StreamFormatException e) when (e.IsTruncation && _r.CheckpointIndex > 0)
            {
                _failover = true;
                _partialItem = _holdingItem;
            }
            if (_r.Ending == StreamEnding.Failover)
            {
                _failover = true;
            }
            if (_awaitQemu && o.QemuRecordOptional && !_failover)
            {
                _awaitQemu = false;
                if (o.Checkpoints && !_r.LastCheckpointSeen)
                {
                    // A Remus checkpoint's device-model record is part of it (libxl saves QEMU at every checkpoint): an
                    // input that stops before it stops inside the checkpoint, whose libxc CHECKPOINT is already out.
                    _failover = true;
                }
                else
                {
                    // The image ended right after the HVM tail: no device-model record to wait for.
                    EndOfImage(checkpoint: false);
                }
            }
            if (_failover)
            {
                Info(string.Create(CultureInfo.InvariantCulture,
                    $"Failover: the input stops inside checkpoint {_r.CheckpointIndex}; its complete records end the output without CHECKPOINT")
                    + (_partialItem is null ? "" : $" (the {_partialItem} the input stops in was not written)"));
            }
            var trailing = !_failover && _r.HasTrailingData;
            if (trailing)
            {
                Info("Ignoring input after the converted image");
            }
            return new LegacyConversionResult
            {
                Width = _r.Width,
                GuestType = _r.GuestType,
                Images = _images,
                PageDataRecords = _pageRecords,
                Pages = _pages,
                DecompressedPages = _decoder?.PagesDecoded ?? 0,
                TrailingDataIgnored = trailing,
                Failover = _failover,
                PartialItemDropped = _partialItem,
                QemuRecordsDropped = _qemuDropped,
            };
        }

        private bool Pv => _r.GuestType == LegacyGuestType.Pv;

        public void Dispose()
        {
            _r?.Dispose();
            _xenstore.Dispose();
        }

        private void Info(string message) => log?.WriteLine(message);

        private StreamFormatException Fail(string problem, string field, long? offset = null) =>
            new(problem, offset ?? _r.Offset, ErrorLayer.Legacy, _r.ItemIndex, _r.ItemName, field);

        // ---- -x ---------------------------------------------------------------------------------------------------

        private void CopyXlHeader()
        {
            Span<byte> h = stackalloc byte[XlWire.HeaderSize];
            var at = src.Position;
            if (!src.Ensure(XlWire.MagicSize) || !src.Peek(XlWire.MagicSize).SequenceEqual(XlWire.Magic))
            {
                var truncated = !src.Ensure(XlWire.MagicSize);
                throw new StreamFormatException(truncated ? "stream truncated: no room for the xl header's magic" : "No xl header",
                    at, ErrorLayer.Xl, -1, "XL_HEADER", "magic", truncated);
            }
            if (!src.Ensure(XlWire.HeaderSize))
            {
                throw new StreamFormatException("stream truncated inside the xl header", at, ErrorLayer.Xl, -1, "XL_HEADER", "header", truncated: true);
            }
            src.Peek(XlWire.HeaderSize).CopyTo(h);
            src.Advance(XlWire.HeaderSize);
            // convert-legacy-stream unpacks "=IIII": native (little-endian) order, whatever the byteorder field says.
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(h[XlWire.MandatoryFlagsOffset..]);
            if (_libxl)
            {
                flags |= (uint)XlMandatoryFlags.StreamV2;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(h[XlWire.MandatoryFlagsOffset..], flags);
            var optLength = BinaryPrimitives.ReadUInt32LittleEndian(h[XlWire.OptionalDataLengthOffset..]);
            w.WriteRaw(h);
            var left = (long)optLength;
            while (left > 0)
            {
                var n = src.Read(_scratch.AsSpan(0, (int)Math.Min(left, _scratch.Length)));
                if (n == 0)
                {
                    throw new StreamFormatException(
                        string.Create(CultureInfo.InvariantCulture, $"stream truncated: the xl optional data needs {optLength} bytes, {optLength - left} present"),
                        at + XlWire.HeaderSize, ErrorLayer.Xl, -1, "XL_HEADER", "optional_data", truncated: true);
                }
                w.WriteRaw(_scratch.AsSpan(0, n));
                left -= n;
            }
            Info("Processed xl header");
        }

        // ---- items ------------------------------------------------------------------------------------------------

        private void Item()
        {
            switch (_r.Kind)
            {
                case LegacyItemKind.Header:
                    Header();
                    break;
                case LegacyItemKind.ExtendedInfo:
                    Info(string.Create(CultureInfo.InvariantCulture, $"Extended Info: length 0x{_r.ExtendedInfoLength:x}"));
                    break;
                case LegacyItemKind.ExtendedInfoBlock:
                    Info(string.Create(CultureInfo.InvariantCulture, $"  Record type: {_r.BlockName}, size 0x{_r.BodyLength:x}"));
                    if (_r.BlockId.SequenceEqual(LegacyLayout.VcpuBlockId))
                    {
                        WritePvInfo();
                    }
                    break;
                case LegacyItemKind.P2mFrameList:
                    w.WriteRecord(LibxcRecordType.StaticDataEnd);
                    P2mFrames();
                    break;
                case LegacyItemKind.PageBatch:
                    PageBatch();
                    break;
                case LegacyItemKind.Chunk:
                    Chunk();
                    break;
                case LegacyItemKind.CompressedData:
                    CompressedData();
                    break;
                case LegacyItemKind.Toolstack:
                    Toolstack();
                    break;
                case LegacyItemKind.Tmem:
                case LegacyItemKind.TmemExtra:
                    throw Fail(string.Create(CultureInfo.InvariantCulture,
                        $"{_r.ItemName} at offset {_r.Offset}: transcendent memory state has no record in a v2/v3 stream, so it cannot be converted (Xen's converter stops here too, with \"todo\")"),
                        "id");
                case LegacyItemKind.EndOfBody:
                    EndOfBody();
                    break;
                case LegacyItemKind.PvUnmappedPfns:
                    if (_r.UnmappedCount != 0)
                    {
                        Info(string.Create(CultureInfo.InvariantCulture, $"discarding {_r.UnmappedCount} bogus 'unmapped pfns'"));
                    }
                    break;
                case LegacyItemKind.PvVcpuBasic:
                    VcpuRecord(LibxcRecordType.X86PvVcpuBasic);
                    break;
                case LegacyItemKind.PvVcpuExtended:
                    VcpuRecord(LibxcRecordType.X86PvVcpuExtended);
                    break;
                case LegacyItemKind.PvVcpuXsave:
                    VcpuRecord(LibxcRecordType.X86PvVcpuXsave);
                    break;
                case LegacyItemKind.SharedInfo:
                    StreamRecord((uint)LibxcRecordType.SharedInfo, default, _r.BodyLength);
                    Info("Got shinfo");
                    EndOfImageLibxc();
                    break;
                case LegacyItemKind.HvmMagicPfns:
                {
                    var m = _r.MagicPfns;
                    Info(string.Create(CultureInfo.InvariantCulture, $"Magic pfns: 0x{m.IoreqPfn:x} 0x{m.BufioreqPfn:x} 0x{m.StorePfn:x}"));
                    WriteHvmParams([(ulong)HvmParam.IoreqPfn, m.IoreqPfn, (ulong)HvmParam.BufioreqPfn, m.BufioreqPfn, (ulong)HvmParam.StorePfn, m.StorePfn]);
                    break;
                }
                case LegacyItemKind.HvmContext:
                    Info(string.Create(CultureInfo.InvariantCulture, $"Got HVM Context (0x{_r.BodyLength:x} bytes)"));
                    StreamRecord((uint)LibxcRecordType.HvmContext, default, _r.BodyLength);
                    EndOfImageLibxc();
                    break;
                case LegacyItemKind.QemuRecord:
                    Qemu();
                    break;
            }
        }

        private void Header()
        {
            Info(string.Create(CultureInfo.InvariantCulture, $"P2M Size: 0x{_r.P2mSize:x}"));
            Info($"Image: {(int)_r.Width}-bit toolstack, {(_r.GuestType == LegacyGuestType.Pv ? "PV" : "HVM")} guest ({_r.DetectionReason})");
            if (Pv && (_r.P2mSize == 0 || _r.P2mSize - 1 > uint.MaxValue))
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"p2m_size 0x{_r.P2mSize:x} cannot be expressed: X86_PV_P2M_FRAMES carries end_pfn = p2m_size - 1 in 32 bits"), "p2m_size");
            }
            if (_libxl)
            {
                w.WriteLibxlHeader(LibxlOptions.Legacy);
                w.WriteRecord(LibxlRecordType.LibxcContext);
            }
            w.WriteImageHeader(LibxcWire.MaxVersion);
            w.WriteDomainHeader(Pv ? DomainType.X86Pv : DomainType.X86Hvm, LibxcWire.LegacyConvertedMajor, LegacyWire.ConverterVersion);
            if (!Pv)
            {
                w.WriteRecord(LibxcRecordType.StaticDataEnd);
            }
        }

        private void WritePvInfo()
        {
            Span<byte> body = stackalloc byte[LibxcBodySizes.X86PvInfo];
            body.Clear();
            body[0] = (byte)_r.GuestWidth;
            body[1] = (byte)_r.PtLevels;
            w.WriteRecord(LibxcRecordType.X86PvInfo, body);
        }

        private void P2mFrames()
        {
            var count = _r.FrameCount;
            Info(string.Create(CultureInfo.InvariantCulture,
                $"P2M frames: fpp {LegacyLayout.PageSize / _r.GuestWidth}, p2m_frame_len {count}"));
            var length = LibxcBodySizes.P2mFramesHeader + (count * 8);
            if (length > uint.MaxValue)
            {
                throw Fail("the p2m frame list is too long for one record", "p2m_size");
            }
            w.BeginRecord((uint)LibxcRecordType.X86PvP2mFrames, (uint)length);
            Span<byte> h = stackalloc byte[LibxcBodySizes.P2mFramesHeader];
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(_r.P2mSize - 1));
            w.WriteBody(h);
            int n;
            while ((n = _r.ReadUlongs(_frames)) > 0)
            {
                var bytes = _scratch.AsSpan(0, n * 8);
                for (var i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes[(i * 8)..], _frames[i]);
                }
                w.WriteBody(bytes);
            }
            w.EndRecord();
        }

        /// <summary>Drops XTAB-pfn-0 padding and rejects duplicates, as convert-legacy-stream does. Returns the kept count.</summary>
        private int FilterBatch()
        {
            var n = 0;
            foreach (var word in _r.PfnWords)
            {
                if (word != LegacyLayout.XtabPfnZero)
                {
                    _words[n++] = word;
                }
            }
            _words.AsSpan(0, n).CopyTo(_sorted);
            var sorted = _sorted.AsSpan(0, n);
            sorted.Sort();
            for (var i = 1; i < n; i++)
            {
                if (sorted[i] == sorted[i - 1])
                {
                    throw Fail(string.Create(CultureInfo.InvariantCulture, $"duplicate pfn word 0x{sorted[i]:x} in the batch"), "pfn[]");
                }
            }
            return n;
        }

        private void PageBatch()
        {
            var n = FilterBatch();
            if (_r.InCompressedBody)
            {
                _decoder ??= new LegacyCompressedPageDecoder(DecodedPage, o.CompressionCacheCapacity);
                _decoder.StreamOffset = _r.Offset;
                for (var i = 0; i < n; i++)
                {
                    _decoder.Announce(_words[i]);
                }
                return;
            }
            var pages = _r.DataPageCount;
            var length = LibxcBodySizes.PageDataHeader + (n * 8L) + (pages * (long)LegacyLayout.PageSize);
            var head = _scratch.AsSpan(0, LibxcBodySizes.PageDataHeader + (n * 8));
            BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)n);
            BinaryPrimitives.WriteUInt32LittleEndian(head[4..], 0);
            for (var i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(head[(LibxcBodySizes.PageDataHeader + (i * 8))..], LegacyPfn.ToV2Word(_words[i]));
            }
            BodyRecord((uint)LibxcRecordType.PageData, (uint)length, head, pages * (long)LegacyLayout.PageSize, pageData: true);
            _pageRecords++;
            _pages += pages;
        }

        /// <summary>
        /// Whether records are read whole before they are written: in a Remus checkpoint after the first, where the end
        /// of the input is a failover (not an error) and the output must stop at a record boundary.
        /// </summary>
        private bool Holding => _r.CheckpointIndex > 0;

        /// <summary>
        /// A record of <paramref name="length"/> bytes: <paramref name="prefix"/>, then the current item's body
        /// (<paramref name="bodyLength"/> bytes). Streamed; in a later checkpoint read whole first (up to
        /// <see cref="LegacyConverterOptions.MaxHeldCheckpointRecord"/>), so a failover inside it writes none of it.
        /// </summary>
        private void BodyRecord(uint type, uint length, ReadOnlySpan<byte> prefix, long bodyLength, bool pageData = false)
        {
            if (Holding && bodyLength > o.MaxHeldCheckpointRecord && InputEndsWithin(bodyLength))
            {
                DrainBody(); // a failover inside a record too big to hold: the input (a file) ends before it does
            }
            if (Holding && bodyLength <= o.MaxHeldCheckpointRecord)
            {
                HoldBody();
                w.BeginRecord(type, length);
                w.WriteBody(prefix);
                w.WritePageBody(_held.AsSpan(0, _heldLength));
                w.EndRecord();
                return;
            }
            w.BeginRecord(type, length);
            w.WriteBody(prefix);
            CopyBody(pageData);
            w.EndRecord();
        }

        /// <summary>
        /// True when the input's length is known (a file, memory) and it ends before the current body's remaining
        /// <paramref name="bodyLength"/> bytes do: the record cannot complete, whatever its declared size.
        /// </summary>
        private bool InputEndsWithin(long bodyLength) =>
            _r.Source.Length is long length && length - _r.Source.Position < Math.Min(bodyLength, _r.BodyRemaining);

        /// <summary>Reads the rest of the current body without keeping it, up to the input's end (which then fails over).</summary>
        private void DrainBody()
        {
            _holdingItem = _r.ItemName;
            while (!_r.ReadBodySpan(1 << 22).IsEmpty)
            {
            }
            _holdingItem = null;
        }

        /// <summary>Reads the rest of the current body into <see cref="_held"/>, which grows only as bytes arrive.</summary>
        private void HoldBody()
        {
            _holdingItem = _r.ItemName;
            _heldLength = 0;
            while (true)
            {
                var span = _r.ReadBodySpan(1 << 22);
                if (span.IsEmpty)
                {
                    break;
                }
                if (_held.Length - _heldLength < span.Length)
                {
                    Array.Resize(ref _held, Math.Max(_heldLength + span.Length, (int)Math.Min(2L * _held.Length, Array.MaxLength)));
                }
                span.CopyTo(_held.AsSpan(_heldLength));
                _heldLength += span.Length;
            }
            _holdingItem = null;
        }

        /// <summary>Streams the rest of the current body into the open record, in place where the source allows.</summary>
        private void CopyBody(bool pageData = false)
        {
            while (true)
            {
                var span = _r.ReadBodySpan(1 << 22);
                if (span.IsEmpty)
                {
                    return;
                }
                if (pageData)
                {
                    w.WritePageBody(span); // zero-page runs may become holes in a file
                }
                else
                {
                    w.WriteBody(span);
                }
            }
        }

        private void DecodedPage(ulong word, ReadOnlySpan<byte> page)
        {
            _outWords ??= new ulong[LegacyWire.MaxBatch];
            _outPages ??= new byte[LegacyWire.MaxBatch * LegacyLayout.PageSize];
            _outWords[_outCount++] = word;
            if (!page.IsEmpty)
            {
                page.CopyTo(_outPages.AsSpan(_outPageCount * LegacyLayout.PageSize));
                _outPageCount++;
            }
            if (_outCount == LegacyWire.MaxBatch)
            {
                FlushDecoded();
            }
        }

        private void FlushDecoded()
        {
            if (_outCount == 0)
            {
                return;
            }
            var words = _outWords.AsSpan(0, _outCount);
            for (var i = 0; i < words.Length; i++)
            {
                words[i] = LegacyPfn.ToV2Word(words[i]);
            }
            w.WritePageData(words, _outPages.AsSpan(0, _outPageCount * LegacyLayout.PageSize));
            _pageRecords++;
            _pages += _outPageCount;
            _outCount = 0;
            _outPageCount = 0;
        }

        private void CompressedData()
        {
            if (!_r.InCompressedBody)
            {
                throw Fail(_r.CheckpointIndex == 0
                    ? "COMPRESSED_DATA in the first body: pages are compressed only in checkpoints after the first tail"
                    : "COMPRESSED_DATA in a body that is not compressed (no ENABLE_COMPRESSION in the first body)", "id");
            }
            _decoder ??= new LegacyCompressedPageDecoder(DecodedPage, o.CompressionCacheCapacity);
            _decoder.StreamOffset = _r.BodyOffset;
            Info(string.Create(CultureInfo.InvariantCulture, $"  Compressed Data: sz 0x{_r.BodyLength:x}"));
            while (true)
            {
                var span = _r.ReadBodySpan(1 << 20);
                if (span.IsEmpty)
                {
                    return;
                }
                _decoder.Feed(span);
            }
        }

        private void Chunk()
        {
            var id = _r.ChunkId;
            Info(string.Create(CultureInfo.InvariantCulture, $"Chunk: {_r.RawChunkId} - {LegacyLayout.ChunkName(_r.RawChunkId)}"));
            if (LegacyLayout.HvmParamOf(id) is HvmParam param)
            {
                if (Pv)
                {
                    throw Fail("HVM-only param in PV stream", "id");
                }
                if (_hvmParams.Count / 2 >= o.MaxHvmParams)
                {
                    throw Fail(string.Create(CultureInfo.InvariantCulture, $"more than {o.MaxHvmParams} HVM-param chunks in one body"), "id");
                }
                _hvmParams.Add((ulong)param);
                _hvmParams.Add(_r.ChunkValue);
                return;
            }
            switch (id)
            {
                case LegacyChunkId.TscInfo:
                {
                    var t = _r.Tsc;
                    Span<byte> body = stackalloc byte[LibxcBodySizes.TscInfo];
                    BinaryPrimitives.WriteUInt32LittleEndian(body, t.Mode);
                    BinaryPrimitives.WriteUInt32LittleEndian(body[4..], t.Khz);
                    BinaryPrimitives.WriteUInt64LittleEndian(body[8..], t.Nsec);
                    BinaryPrimitives.WriteUInt32LittleEndian(body[16..], t.Incarnation);
                    BinaryPrimitives.WriteUInt32LittleEndian(body[20..], 0);
                    w.WriteRecord(LibxcRecordType.X86TscInfo, body);
                    break;
                }
                case LegacyChunkId.VcpuInfo:
                    Info($"  Vcpu info: max_id {_r.MaxVcpuId}, online map [{string.Join(", ", _r.OnlineVcpus.ToArray())}]");
                    break;
                case LegacyChunkId.EnableVerifyMode:
                    Info("This is a debug stream");
                    break;
                case LegacyChunkId.EnableCompression:
                    Info(o.Checkpoints
                        ? "  Checkpoint compression enabled (later checkpoints are decoded)"
                        : "  Checkpoint compression enabled (only the first image is converted)");
                    break;
            }
        }

        private void Toolstack()
        {
            if (_r.BodyLength == 0)
            {
                return;
            }
            Info(string.Create(CultureInfo.InvariantCulture, $"  Toolstack Data: sz 0x{_r.BodyLength:x}"));
            if (!_libxl)
            {
                Info("    Discarding");
                return;
            }
            if (_r.BodyLength > o.MaxToolstackBlob)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"toolstack blob of {_r.BodyLength} bytes exceeds the {o.MaxToolstackBlob}-byte limit for physmap data"), "size");
            }
            LegacyToolstackBlob.AppendXenstoreData(_r.GetBody(), _r.Width, _xenstore, _r.BodyOffset, _r.ItemIndex, log);
            if (_xenstore.Length > o.MaxXenstoreData)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"toolstack blobs expand to more than {o.MaxXenstoreData} bytes of xenstore data"), "data");
            }
        }

        private void EndOfBody()
        {
            Info("Chunk: 0 - end");
            if (_r.InCompressedBody)
            {
                _decoder?.EndOfBody();
                FlushDecoded();
            }
            if (_hvmParams.Count > 0)
            {
                WriteHvmParams(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_hvmParams));
                _hvmParams.Clear();
            }
        }

        private void WriteHvmParams(ReadOnlySpan<ulong> pairs)
        {
            var length = LibxcBodySizes.HvmParamsHeader + (pairs.Length * 8);
            w.BeginRecord((uint)LibxcRecordType.HvmParams, (uint)length);
            Span<byte> h = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)(pairs.Length / 2));
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
            w.WriteBody(h);
            foreach (var v in pairs)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(h, v);
                w.WriteBody(h);
            }
            w.EndRecord();
        }

        private void VcpuRecord(LibxcRecordType type)
        {
            Span<byte> h = stackalloc byte[LibxcBodySizes.VcpuHeader];
            BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)_r.VcpuId);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
            StreamRecord((uint)type, h, _r.BodyLength);
        }

        /// <summary>A record whose body is <paramref name="prefix"/> and then the current item's body, streamed.</summary>
        private void StreamRecord(uint type, ReadOnlySpan<byte> prefix, long bodyLength)
        {
            var length = prefix.Length + bodyLength;
            if (bodyLength < 0 || length > uint.MaxValue)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"{_r.ItemName} of {bodyLength} bytes does not fit a record (at most 4 GiB)"), "length");
            }
            BodyRecord(type, (uint)length, prefix, bodyLength);
        }

        /// <summary>The libxc tail is written: END (or CHECKPOINT), then the libxl records that follow the libxc stream.</summary>
        private void EndOfImageLibxc()
        {
            var checkpoint = o.Checkpoints && !_r.LastCheckpointSeen;
            w.WriteRecord(checkpoint ? LibxcRecordType.Checkpoint : LibxcRecordType.End);
            if (_libxl && _xenstore.Length > 0)
            {
                WriteEmulatorRecord(LibxlRecordType.EmulatorXenstoreData, _xenstore.GetBuffer().AsSpan(0, (int)_xenstore.Length), 0);
                _xenstore.SetLength(0);
            }
            _awaitQemu = !Pv && (_libxl || !o.SkipQemu);
            if (!_awaitQemu)
            {
                EndOfImage(checkpoint);
            }
        }

        private void EndOfImage(bool checkpoint)
        {
            _images++;
            if (_libxl)
            {
                w.WriteRecord(checkpoint ? LibxlRecordType.CheckpointEnd : LibxlRecordType.End);
            }
        }

        private void WriteEmulatorRecord(LibxlRecordType type, ReadOnlySpan<byte> data, long streamed)
        {
            var length = LibxlWire.EmulatorSubHeaderSize + data.Length + streamed;
            if (length > uint.MaxValue)
            {
                throw Fail("the emulator record would exceed 4 GiB", "length");
            }
            Span<byte> h = stackalloc byte[LibxlWire.EmulatorSubHeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)EmulatorId.Unknown);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
            if (streamed > 0)
            {
                BodyRecord((uint)type, (uint)length, h, streamed); // data is empty when the body is streamed
                return;
            }
            w.BeginRecord((uint)type, (uint)length);
            w.WriteBody(h);
            w.WriteBody(data);
            w.EndRecord();
        }

        private void Qemu()
        {
            var checkpoint = o.Checkpoints && !_r.LastCheckpointSeen;
            Info($"Qemu signature: {Encoding.ASCII.GetString(_r.QemuSignatureBytes)}");
            if (!_awaitQemu)
            {
                return;
            }
            _awaitQemu = false;
            if (_libxl)
            {
                if (_r.BodyLength >= 0)
                {
                    WriteEmulatorRecord(LibxlRecordType.EmulatorContext, default, _r.BodyLength);
                }
                else
                {
                    // "QemuDeviceModelRecord" through a pipe: the length is known only at the end of the input.
                    WriteEmulatorRecord(LibxlRecordType.EmulatorContext, BufferToEnd(), 0);
                }
            }
            else if (checkpoint)
            {
                // A checkpointed libxc stream has no place for raw QEMU state between checkpoints.
                _qemuDropped++;
                Info("  (QEMU record of a checkpoint dropped: libxc output cannot carry it)");
            }
            else
            {
                if (Holding && _r.BodyLength > o.MaxHeldCheckpointRecord && InputEndsWithin(_r.BodyLength))
                {
                    DrainBody(); // a failover inside a QEMU record too big to hold
                }
                var hold = Holding && _r.BodyLength >= 0 && _r.BodyLength <= o.MaxHeldCheckpointRecord;
                if (hold)
                {
                    HoldBody(); // the last image of a Remus stream: its raw QEMU record is written whole or not at all
                }
                w.WriteRaw(_r.QemuSignatureBytes);
                if (_r.QemuSignature != LegacyQemuSignature.QemuDeviceModelRecord)
                {
                    Span<byte> len = stackalloc byte[LegacyLayout.QemuLengthSize];
                    BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)_r.BodyLength);
                    w.WriteRaw(len);
                }
                if (hold)
                {
                    w.WriteRaw(_held.AsSpan(0, _heldLength));
                }
                while (!hold)
                {
                    var span = _r.ReadBodySpan(1 << 22);
                    if (span.IsEmpty)
                    {
                        break;
                    }
                    w.WriteRaw(span);
                }
            }
            EndOfImage(checkpoint);
        }

        private ReadOnlySpan<byte> BufferToEnd()
        {
            var buffer = new MemoryStream();
            while (true)
            {
                var span = _r.ReadBodySpan(1 << 20);
                if (span.IsEmpty)
                {
                    break;
                }
                if (buffer.Length + span.Length > o.MaxBufferedQemuRecord)
                {
                    throw Fail(string.Create(CultureInfo.InvariantCulture,
                        $"QEMU record of unknown length exceeds the {o.MaxBufferedQemuRecord}-byte buffering limit"), "data");
                }
                buffer.Write(span);
            }
            return buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        }
    }
}
