using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Streams;

/// <summary>
/// Writes every layer of a stream: headers, framed records (with zero padding, or the given padding when
/// copying a stream byte for byte), <c>xl migrate</c> messages and raw bytes. Small writes are gathered in one
/// buffer; large bodies (page data) go straight to the output without an extra copy.
/// </summary>
public sealed class XenStreamWriter : IDisposable
{
    private readonly BufferedSink _sink;
    private readonly bool _leaveOpen;
    private long _recordLeft = -1;
    private uint _recordLength;
    private long _holeAtEnd;

    /// <summary>Writes to <paramref name="output"/>.</summary>
    public XenStreamWriter(Stream output, bool leaveOpen = false, int bufferSize = 1 << 16)
    {
        _sink = new BufferedSink(output, bufferSize);
        _leaveOpen = leaveOpen;
    }

    /// <summary>Bytes written so far (including buffered ones).</summary>
    public long Position => _sink.Position;

    /// <summary>
    /// Whether <see cref="WritePageBody"/> may leave runs of zero pages as holes (seeking over them) instead of writing
    /// them. Only for a seekable output written at its end (a file just created or truncated): what was never written
    /// reads back as zeros, so the bytes are the same. <see cref="ForFile"/> decides it for a stream.
    /// </summary>
    public bool SparseZeroPages { get; init; }

    /// <summary>Zero runs that would leave fewer whole 4 KiB blocks of the output unwritten are written as data.</summary>
    public int MinHoleBlocks { get; init; } = 2;

    /// <summary>Bytes left as holes by <see cref="WritePageBody"/>.</summary>
    public long HoleBytes { get; private set; }

    /// <summary>
    /// A writer that leaves zero pages as holes when <paramref name="output"/> is a regular file positioned at its end
    /// (<see cref="SparseZeroPages"/>); otherwise a plain writer.
    /// </summary>
    public static XenStreamWriter ForFile(Stream output, bool leaveOpen = false, int bufferSize = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(output);
        var sparse = false;
        if (output is FileStream { CanSeek: true } file)
        {
            try
            {
                sparse = file.Position == file.Length && IsRegularFile(file);
            }
            catch (IOException)
            {
                sparse = false;
            }
        }
        return new XenStreamWriter(output, leaveOpen, bufferSize) { SparseZeroPages = sparse };
    }

    private static bool IsRegularFile(FileStream file) =>
        !string.IsNullOrEmpty(file.Name) && File.Exists(file.Name) && (File.GetAttributes(file.Name) & FileAttributes.Device) == 0;

    /// <summary>
    /// Part of the open record's body that holds whole 4 KiB pages (a PAGE_DATA record's page data). With
    /// <see cref="SparseZeroPages"/>, runs of all-zero pages that cover at least <see cref="MinHoleBlocks"/> whole
    /// blocks of the output are skipped with a seek rather than written; the bytes read back are the same.
    /// </summary>
    public void WritePageBody(ReadOnlySpan<byte> pages)
    {
        if (!SparseZeroPages || pages.Length < 2 * LibxcWire.PageSize)
        {
            WriteBody(pages);
            return;
        }
        if (_recordLeft < pages.Length)
        {
            WriteBody(pages); // throws the overrun error
            return;
        }
        const int page = LibxcWire.PageSize;
        const int head = 64;
        var dataStart = 0;
        var i = 0;
        while (i + page <= pages.Length)
        {
            // A page whose first bytes are not zero is data (most data pages fail here at once); a run of pages whose
            // first bytes are zero is scanned in full only if it is long enough to leave a hole.
            if (pages.Slice(i, head).ContainsAnyExcept((byte)0))
            {
                i += page;
                continue;
            }
            var candidate = i;
            while (i + page <= pages.Length && !pages.Slice(i, head).ContainsAnyExcept((byte)0))
            {
                i += page;
            }
            if (WholeBlocks(Position + (candidate - dataStart), i - candidate) < MinHoleBlocks)
            {
                continue;
            }
            var k = candidate;
            while (k < i)
            {
                if (pages.Slice(k, page).ContainsAnyExcept((byte)0))
                {
                    k += page;
                    continue;
                }
                var zeroStart = k;
                while (k < i && !pages.Slice(k, page).ContainsAnyExcept((byte)0))
                {
                    k += page;
                }
                // The run [zeroStart, k) lands at output offsets from Position + (zeroStart - dataStart): only the
                // whole blocks inside it can be holes (the kernel zero-fills the rest of a partly written block).
                if (WholeBlocks(Position + (zeroStart - dataStart), k - zeroStart) >= MinHoleBlocks)
                {
                    WriteBody(pages[dataStart..zeroStart]);
                    Hole(k - zeroStart);
                    dataStart = k;
                }
            }
        }
        WriteBody(pages[dataStart..]);
    }

    /// <summary>
    /// Part of the open record's body copied from the regular file <paramref name="input"/> at
    /// <paramref name="offset"/> inside the kernel (copy_file_range or sendfile: the bytes never enter this process),
    /// when the output is a file or a pipe opened as a <see cref="FileStream"/> and <see cref="SparseZeroPages"/> is off
    /// (holes need the bytes looked at). Returns how many of <paramref name="count"/> bytes were copied; the caller writes
    /// the rest (0: all of it) as usual, so the output is the same either way.
    /// </summary>
    public long CopyBodyFromFile(Microsoft.Win32.SafeHandles.SafeFileHandle input, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (SparseZeroPages || count <= 0)
        {
            return 0;
        }
        if (_recordLeft < count)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"body overruns the record: {count} bytes copied, {Math.Max(0, _recordLeft)} declared bytes left"));
        }
        var copied = _sink.CopyFromFile(input, offset, count);
        _recordLeft -= copied;
        return copied;
    }

    private static long WholeBlocks(long at, long length) =>
        ((at + length) / LibxcWire.PageSize) - ((at + LibxcWire.PageSize - 1) / LibxcWire.PageSize);

    private void Hole(long length)
    {
        _recordLeft -= length;
        _sink.Skip(length);
        _holeAtEnd = _sink.Flushed;
        HoleBytes += length;
    }

    /// <summary>The xl header with its optional data (written in the byte order the fields name).</summary>
    public void WriteXlHeader(XlHeaderFields header, ReadOnlySpan<byte> optionalData)
    {
        if (optionalData.Length != header.OptionalDataLength)
        {
            throw new ArgumentException("optional data length differs from the header's optional_data_len", nameof(optionalData));
        }
        var h = Reserve(XlWire.HeaderSize);
        XlWire.Magic.CopyTo(h);
        var be = header.BigEndian;
        PutU32(h[XlWire.ByteOrderOffset..], XlWire.ByteOrderMarker, be);
        PutU32(h[XlWire.MandatoryFlagsOffset..], (uint)header.MandatoryFlags, be);
        PutU32(h[XlWire.OptionalFlagsOffset..], header.OptionalFlags, be);
        PutU32(h[XlWire.OptionalDataLengthOffset..], header.OptionalDataLength, be);
        WriteRaw(optionalData);
    }

    /// <summary>An xl header whose optional data is the config, as xl writes it: u32 size, then the text.</summary>
    public void WriteXlHeader(XlMandatoryFlags flags, ReadOnlySpan<byte> config)
    {
        var header = new XlHeaderFields(false, XlWire.ByteOrderMarker, flags, 0, (uint)(4 + config.Length));
        var h = Reserve(XlWire.HeaderSize);
        XlWire.Magic.CopyTo(h);
        PutU32(h[XlWire.ByteOrderOffset..], XlWire.ByteOrderMarker, false);
        PutU32(h[XlWire.MandatoryFlagsOffset..], (uint)header.MandatoryFlags, false);
        PutU32(h[XlWire.OptionalFlagsOffset..], 0, false);
        PutU32(h[XlWire.OptionalDataLengthOffset..], header.OptionalDataLength, false);
        BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), (uint)config.Length);
        WriteRaw(config);
    }

    /// <summary>The libxl header.</summary>
    public void WriteLibxlHeader(LibxlHeaderFields header)
    {
        var h = Reserve(LibxlWire.HeaderSize);
        BinaryPrimitives.WriteUInt64BigEndian(h[LibxlHeaderLayout.Ident..], header.Ident);
        BinaryPrimitives.WriteUInt32BigEndian(h[LibxlHeaderLayout.Version..], header.Version);
        BinaryPrimitives.WriteUInt32BigEndian(h[LibxlHeaderLayout.Options..], (uint)header.Options);
    }

    /// <summary>The libxl header with the usual ident and version.</summary>
    public void WriteLibxlHeader(LibxlOptions options = LibxlOptions.None)
        => WriteLibxlHeader(new LibxlHeaderFields(LibxlWire.Ident, LibxlWire.Version, options));

    /// <summary>The libxc image header.</summary>
    public void WriteImageHeader(LibxcImageHeaderFields header)
    {
        var h = Reserve(LibxcWire.ImageHeaderSize);
        BinaryPrimitives.WriteUInt64BigEndian(h[LibxcImageHeaderLayout.Marker..], header.Marker);
        BinaryPrimitives.WriteUInt32BigEndian(h[LibxcImageHeaderLayout.Id..], header.Id);
        BinaryPrimitives.WriteUInt32BigEndian(h[LibxcImageHeaderLayout.Version..], header.Version);
        BinaryPrimitives.WriteUInt16BigEndian(h[LibxcImageHeaderLayout.Options..], header.Options);
        BinaryPrimitives.WriteUInt16BigEndian(h[LibxcImageHeaderLayout.Reserved1..], header.Reserved1);
        BinaryPrimitives.WriteUInt32BigEndian(h[LibxcImageHeaderLayout.Reserved2..], header.Reserved2);
    }

    /// <summary>The libxc image header for <paramref name="version"/> (2 or 3), little-endian.</summary>
    public void WriteImageHeader(uint version = LibxcWire.MaxVersion)
        => WriteImageHeader(new LibxcImageHeaderFields(LibxcWire.Marker, LibxcWire.Id, version, 0, 0, 0));

    /// <summary>The libxc domain header.</summary>
    public void WriteDomainHeader(LibxcDomainHeaderFields header)
    {
        var h = Reserve(LibxcWire.DomainHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[LibxcDomainHeaderLayout.Type..], (uint)header.Type);
        BinaryPrimitives.WriteUInt16LittleEndian(h[LibxcDomainHeaderLayout.PageShift..], header.PageShift);
        BinaryPrimitives.WriteUInt16LittleEndian(h[LibxcDomainHeaderLayout.Reserved..], header.Reserved);
        BinaryPrimitives.WriteUInt32LittleEndian(h[LibxcDomainHeaderLayout.XenMajor..], header.XenMajor);
        BinaryPrimitives.WriteUInt32LittleEndian(h[LibxcDomainHeaderLayout.XenMinor..], header.XenMinor);
    }

    /// <summary>The libxc domain header for a guest type and saver version.</summary>
    public void WriteDomainHeader(DomainType type, uint xenMajor, uint xenMinor)
        => WriteDomainHeader(new LibxcDomainHeaderFields(type, LibxcWire.PageShift, 0, xenMajor, xenMinor));

    /// <summary>A whole record: header, body and padding (zeros unless <paramref name="padding"/> is given).</summary>
    public void WriteRecord(uint type, ReadOnlySpan<byte> body, ReadOnlySpan<byte> padding = default)
    {
        BeginRecord(type, (uint)body.Length);
        WriteBody(body);
        EndRecord(padding);
    }

    /// <summary>A libxc record.</summary>
    public void WriteRecord(LibxcRecordType type, ReadOnlySpan<byte> body = default) => WriteRecord((uint)type, body);

    /// <summary>A libxl record.</summary>
    public void WriteRecord(LibxlRecordType type, ReadOnlySpan<byte> body = default) => WriteRecord((uint)type, body);

    /// <summary>Starts a record whose body is written in pieces with <see cref="WriteBody"/>.</summary>
    public void BeginRecord(uint type, uint bodyLength)
    {
        if (_recordLeft >= 0)
        {
            throw new InvalidOperationException("a record is still open");
        }
        var h = Reserve(Framing.RecordHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[RecordHeaderLayout.Type..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(h[RecordHeaderLayout.Length..], bodyLength);
        _recordLeft = bodyLength;
        _recordLength = bodyLength;
    }

    /// <summary>Part of the open record's body.</summary>
    public void WriteBody(ReadOnlySpan<byte> bytes)
    {
        if (_recordLeft < bytes.Length)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"body overruns the record: {bytes.Length} bytes written, {Math.Max(0, _recordLeft)} declared bytes left"));
        }
        _recordLeft -= bytes.Length;
        WriteRaw(bytes);
    }

    /// <summary>Closes the open record with its padding.</summary>
    public void EndRecord(ReadOnlySpan<byte> padding = default)
    {
        if (_recordLeft != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"record body is {_recordLeft} bytes short"));
        }
        _recordLeft = -1;
        var pad = Framing.PaddingFor(_recordLength);
        var p = Reserve(pad);
        if (padding.Length == pad)
        {
            padding.CopyTo(p);
        }
        else if (padding.IsEmpty)
        {
            p.Clear();
        }
        else
        {
            throw new ArgumentException("padding has the wrong length", nameof(padding));
        }
    }

    /// <summary>A PAGE_DATA record from pfn words and the pages of the data-carrying ones.</summary>
    public void WritePageData(ReadOnlySpan<ulong> words, ReadOnlySpan<byte> pages, uint type = (uint)LibxcRecordType.PageData)
    {
        var length = (uint)(LibxcBodySizes.PageDataHeader + (words.Length * LibxcBodySizes.PfnWord) + pages.Length);
        BeginRecord(type, length);
        var h = Reserve(LibxcBodySizes.PageDataHeader);
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)words.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
        _recordLeft -= LibxcBodySizes.PageDataHeader;
        foreach (var w in words)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), w);
        }
        _recordLeft -= words.Length * (long)LibxcBodySizes.PfnWord;
        WriteBody(pages);
        EndRecord();
    }

    /// <summary>An <c>xl migrate</c> protocol message (with <paramref name="result"/> after a report).</summary>
    public void WriteMessage(MigrateMessage message, byte result = 0)
    {
        switch (message)
        {
            case MigrateMessage.ReceiverBanner: WriteRaw(XlMigrateProtocol.ReceiverBanner); break;
            case MigrateMessage.ReceiverReady: WriteRaw(XlMigrateProtocol.ReceiverReady); break;
            case MigrateMessage.PermissionToGo: WriteRaw(XlMigrateProtocol.PermissionToGo); break;
            case MigrateMessage.Report:
                WriteRaw(XlMigrateProtocol.Report);
                Reserve(1)[0] = result;
                break;
            default: throw new ArgumentOutOfRangeException(nameof(message));
        }
    }

    /// <summary>Raw bytes (protocol text, trailing data, legacy images).</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes) => _sink.Write(bytes);

    private Span<byte> Reserve(int count) => _sink.Reserve(count);

    private static void PutU32(Span<byte> at, uint value, bool bigEndian)
    {
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(at, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(at, value);
        }
    }

    /// <summary>Writes buffered bytes to the output and flushes it.</summary>
    public void Flush()
    {
        _sink.FlushBuffer();
        ExtendOverHole();
        _sink.Output.Flush();
    }

    // A hole at the very end of the output is not part of the file until its length covers it (ftruncate).
    private void ExtendOverHole()
    {
        if (_holeAtEnd != 0 && _holeAtEnd == _sink.Flushed)
        {
            _sink.Output.SetLength(_sink.Flushed);
            _holeAtEnd = 0;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sink.FlushBuffer();
        ExtendOverHole();
        if (!_leaveOpen)
        {
            _sink.Output.Dispose();
        }
    }
}
