using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using StreamBench.Capture.Format;
using StreamBench.Domain.Pv;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Capture.Tools;

/// <summary>Scrub settings.</summary>
public sealed record ScrubOptions
{
    /// <summary>Mixed into every page's pattern; the same seed gives the same output.</summary>
    public ulong Seed { get; init; }

    /// <summary>Also replace the PV SHARED_INFO page (off by default: it holds hypervisor interface state, and restore reads it).</summary>
    public bool SharedInfo { get; init; }

    /// <summary>Keep the capture's host and command-line metadata (by default they are replaced).</summary>
    public bool KeepMetadata { get; init; }

    /// <summary>How to parse the stream.</summary>
    public XenStreamReaderOptions Reader { get; init; } = new();
}

/// <summary>What a scrub replaced and kept (page images counted once per PAGE_DATA occurrence).</summary>
public sealed record ScrubResult(long PagesScrubbed, long ZeroPagesKept, long PageTablesKept, long SharedInfoPages, long Bytes, IReadOnlyList<string> Notes)
{
    /// <summary>PV start_info page images kept (vcpu0's suspend record names the page; restore reads it).</summary>
    public long StartInfoPagesKept { get; init; }

    /// <summary>PV p2m frame images kept (X86_PV_P2M_FRAMES names them; they hold frame numbers the restorer rewrites).</summary>
    public long P2mFramesKept { get; init; }
}

/// <summary>
/// Replaces guest memory contents with a deterministic pattern so that a stream or capture can be shared (docs/CAPTURE.md,
/// "scrub"). Only page images change, in place: every length, header, pfn word, padding byte and record boundary stays,
/// so the output parses, verifies and restores like the input. What is kept, exactly: a page that was all zeros stays
/// all zeros; PV page-table pages (types L1TAB..L4TAB, pinned or not) are kept (they hold frame numbers the restorer
/// rewrites, not guest data); the PV start_info page (the pfn in vcpu0's suspend record, edx of X86_PV_VCPU_BASIC) is
/// kept, because restore reads the XenStore and console pfns it names (Xen's process_start_info); the PV p2m frames
/// (the pfns X86_PV_P2M_FRAMES lists) are kept, as they hold frame numbers the restorer rewrites; SHARED_INFO is kept
/// unless asked. Every other page image (the XenStore and console rings included: they exist after restore, with the
/// pattern as contents) becomes <see cref="FillPattern"/> of its pfn. So restoring the output gives the domain that
/// restoring the input gives, with each replaced pfn holding its pattern (the test ScrubRestoreTests checks this on
/// every stream of corpus/).
/// </summary>
public static class StreamScrubber
{
    /// <summary>The pfn whose pattern replaces SHARED_INFO (no real pfn is this large).</summary>
    public const ulong SharedInfoPatternPfn = ulong.MaxValue;

    [Flags]
    private enum PageFlags : byte
    {
        None = 0,
        Zero = 1,
        PageTable = 2,
        SharedInfo = 4,
        StartInfo = 8,
        P2mFrame = 16,
    }

    private readonly record struct PageRange(long Offset, ulong Pfn, PageFlags Flags)
    {
        public bool Replace => (Flags & (PageFlags.Zero | PageFlags.PageTable | PageFlags.StartInfo | PageFlags.P2mFrame)) == 0;
    }

    /// <summary>Fills <paramref name="page"/> (4096 bytes) with the pattern of <paramref name="pfn"/>: splitmix64 of (seed, pfn, word index).</summary>
    public static void FillPattern(Span<byte> page, ulong pfn, ulong seed)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(page);
        var basis = seed ^ (pfn * 0x9E37_79B9_7F4A_7C15ul);
        for (var i = 0; i < words.Length; i++)
        {
            var z = basis + ((ulong)(i + 1) * 0xBF58_476D_1CE4_E5B9ul);
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9ul;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBul;
            words[i] = BitConverter.IsLittleEndian ? z ^ (z >> 31) : BinaryPrimitives.ReverseEndianness(z ^ (z >> 31));
        }
        if (words[0] == 0)
        {
            words[0] = 1; // A scrubbed page is never mistaken for a zero page.
        }
    }

    /// <summary>Scrubs a plain stream: <paramref name="input"/> must be seekable (it is read twice).</summary>
    public static ScrubResult ScrubStream(Stream input, Stream output, ScrubOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        var notes = new List<string>();
        var pages = Scan(input, options, notes);
        input.Seek(0, SeekOrigin.Begin);
        var applier = new Applier(pages, options.Seed);
        var buffer = new byte[1 << 20];
        long at = 0;
        int n;
        while ((n = input.Read(buffer)) > 0)
        {
            applier.Apply(buffer.AsSpan(0, n), at);
            output.Write(buffer, 0, n);
            at += n;
        }
        output.Flush();
        return Result(pages, at, notes);
    }

    /// <summary>Scrubs the s2r direction of a capture into a new capture with the same chunks, timestamps and index.</summary>
    public static ScrubResult ScrubCapture(string inputPath, string outputPath, ScrubOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var notes = new List<string>();
        List<PageRange> pages;
        CaptureFileHeader header;
        using (var capture = CaptureFile.Open(inputPath))
        {
            header = capture.Header;
            using var s2r = capture.OpenDirection(CaptureDirection.SenderToReceiver);
            pages = Scan(s2r, options, notes);
            if (capture.LostBytes > 0)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"the input lost {capture.LostBytes} bytes after its last valid chunk ({capture.Problem}); they are not copied"));
            }
        }
        var applier = new Applier(pages, options.Seed);
        using var reader = CaptureReader.Open(inputPath);
        using var writer = CaptureWriter.Create(outputPath, new CaptureClock(header.StartTime));
        var scratch = new byte[CaptureWire.MaxChunkPayload];
        while (reader.ReadChunk())
        {
            var h = reader.Chunk;
            switch (h.Type)
            {
                case CaptureChunkType.Data:
                    var payload = reader.Payload;
                    if (h.Direction == CaptureDirection.SenderToReceiver)
                    {
                        payload.CopyTo(scratch);
                        applier.Apply(scratch.AsSpan(0, payload.Length), h.Position);
                        writer.WriteData(CaptureDirection.SenderToReceiver, scratch.AsMemory(0, payload.Length), h.Timestamp);
                    }
                    else
                    {
                        writer.WriteData(h.Direction!.Value, reader.PayloadMemory, h.Timestamp);
                    }
                    break;
                case CaptureChunkType.Metadata:
                    var m = CaptureMetadata.Parse(reader.Payload) ?? new CaptureMetadata();
                    if (!options.KeepMetadata)
                    {
                        foreach (var key in new[] { CaptureMetadata.Host, CaptureMetadata.CommandLine, CaptureMetadata.RecordedCommand })
                        {
                            if (m[key] is not null)
                            {
                                m[key] = "(scrubbed)";
                            }
                        }
                    }
                    writer.WriteMetadata(m, h.Timestamp);
                    break;
                case CaptureChunkType.Index:
                    var entries = new CaptureIndexEntry[h.PayloadLength / CaptureWire.IndexEntrySize];
                    for (var i = 0; i < entries.Length; i++)
                    {
                        entries[i] = CaptureIndexEntry.Read(reader.Payload[(i * CaptureWire.IndexEntrySize)..]);
                    }
                    writer.WriteIndex(h.Direction!.Value, entries, h.Timestamp);
                    break;
                case CaptureChunkType.Event:
                    if (CaptureEvent.Parse(reader.Payload, h.Direction, h.Timestamp) is { } e)
                    {
                        writer.WriteEvent(e);
                    }
                    break;
                case CaptureChunkType.Footer:
                    break;
                default:
                    writer.WriteChunk(h.Type, h.DirectionByte, h.Position, h.Timestamp, reader.PayloadMemory);
                    break;
            }
        }
        writer.WriteMetadata(new CaptureMetadata
        {
            [CaptureMetadata.Scrubbed] = string.Create(CultureInfo.InvariantCulture,
                $"page contents replaced (pattern v1, seed {options.Seed}, shared_info {(options.SharedInfo ? "replaced" : "kept")})"),
        });
        writer.Complete();
        return Result(pages, writer.PositionOf(CaptureDirection.SenderToReceiver), notes);
    }

    private static ScrubResult Result(List<PageRange> pages, long bytes, List<string> notes) => new(
        pages.LongCount(p => p.Replace && (p.Flags & PageFlags.SharedInfo) == 0),
        pages.LongCount(p => (p.Flags & PageFlags.Zero) != 0),
        pages.LongCount(p => (p.Flags & PageFlags.PageTable) != 0 && (p.Flags & PageFlags.Zero) == 0),
        pages.LongCount(p => (p.Flags & PageFlags.SharedInfo) != 0 && p.Replace),
        bytes, notes)
    {
        StartInfoPagesKept = pages.LongCount(p => (p.Flags & PageFlags.StartInfo) != 0 && (p.Flags & (PageFlags.Zero | PageFlags.PageTable)) == 0),
        P2mFramesKept = pages.LongCount(p => (p.Flags & PageFlags.P2mFrame) != 0 && (p.Flags & (PageFlags.Zero | PageFlags.PageTable | PageFlags.StartInfo)) == 0),
    };

    /// <summary>Finds every page image (PAGE_DATA, POSTCOPY_PAGE_DATA, optionally SHARED_INFO): offset, pfn, zero or page table.</summary>
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "One walk over the libxc records, one branch per record that locates guest pages to scrub (PAGE_DATA and POSTCOPY_PAGE_DATA, SHARED_INFO, the PV vCPU's start_info, the P2M frames), then how the stream ended.")]
    private static List<PageRange> Scan(Stream input, ScrubOptions options, List<string> notes)
    {
        var pages = new List<PageRange>();
        using var reader = new XenStreamReader(ByteSource.FromStream(input), options.Reader, ownsSource: false);
        var page = new byte[LibxcWire.PageSize];
        var rfc = reader.Dialect == StreamDialect.PostcopyRfc;
        var startInfoPfns = new HashSet<ulong>();
        var p2mFramePfns = new HashSet<ulong>();
        try
        {
            while (reader.Read())
            {
                if (reader.Kind != StreamItemKind.Record || reader.Layer != StreamLayer.Libxc)
                {
                    continue;
                }
                var type = reader.RecordType;
                if (type == (uint)LibxcRecordType.PageData || (rfc && type == (uint)PostcopyRecordType.PostcopyPageData))
                {
                    ScanPageData(reader, page, pages, notes);
                }
                else if (options.SharedInfo && !rfc && type == (uint)LibxcRecordType.SharedInfo && reader.BodyLength == LibxcBodySizes.SharedInfo)
                {
                    var offset = reader.BodyOffset;
                    reader.ReadBody(page);
                    pages.Add(new PageRange(offset, SharedInfoPatternPfn, PageFlags.SharedInfo | (IsZero(page) ? PageFlags.Zero : PageFlags.None)));
                }
                else if (!rfc && type == (uint)LibxcRecordType.X86PvVcpuBasic && StartInfoPfn(reader) is { } si)
                {
                    startInfoPfns.Add(si);
                }
                else if (!rfc && type == (uint)LibxcRecordType.X86PvP2mFrames && reader.BodyLength >= LibxcBodySizes.P2mFramesHeader)
                {
                    // start_pfn, end_pfn, then the pfns of the guest's p2m frames (read one word at a time: the
                    // set grows with the bytes that arrive, never with the length the record claims).
                    reader.SkipBody(LibxcBodySizes.P2mFramesHeader);
                    var word = page.AsSpan(0, 8);
                    for (var left = (reader.BodyLength - LibxcBodySizes.P2mFramesHeader) / 8; left > 0; left--)
                    {
                        reader.ReadBody(word);
                        p2mFramePfns.Add(BinaryPrimitives.ReadUInt64LittleEndian(word));
                    }
                }
            }
            reader.FinishItem();
        }
        catch (StreamFormatException e)
        {
            // Fail closed: past a malformed point, guest pages cannot be told apart from the rest, and copying them
            // unscrubbed would leak guest memory.
            throw new StreamFormatException("scrub refused, nothing written: the stream is malformed, so guest pages after this point could not be found and scrubbed: " + e.Problem,
                e.Offset, e.Layer, e.RecordIndex, e.RecordType, e.Field, e.IsTruncation, e);
        }
        if (reader.Ending == StreamEnding.MissingEnd)
        {
            throw new StreamFormatException("scrub refused, nothing written: the input ends without END (a truncated stream)", reader.Source.Position, ErrorLayer.Stream, truncated: true);
        }
        if (reader.DetectedFormat == OuterFormat.Legacy)
        {
            throw new StreamFormatException("scrub refused, nothing written: a legacy image is scrubbed through its v3 conversion (streambench scrub converts it)", 0, ErrorLayer.Legacy);
        }
        if (notes.Count > 0)
        {
            throw new StreamFormatException("scrub refused, nothing written: a PAGE_DATA record could not be parsed, its pages would stay unscrubbed: " + notes[0], 0, ErrorLayer.Libxc, field: "PAGE_DATA");
        }
        if (startInfoPfns.Count + p2mFramePfns.Count > 0)
        {
            // The vCPU records come after the pages they describe (and again in every checkpoint): mark afterwards.
            for (var i = 0; i < pages.Count; i++)
            {
                var p = pages[i];
                if ((p.Flags & PageFlags.SharedInfo) == 0)
                {
                    var kept = (startInfoPfns.Contains(p.Pfn) ? PageFlags.StartInfo : PageFlags.None)
                        | (p2mFramePfns.Contains(p.Pfn) ? PageFlags.P2mFrame : PageFlags.None);
                    pages[i] = p with { Flags = p.Flags | kept };
                }
            }
        }
        return pages;
    }

    /// <summary>
    /// The start_info pfn of an X86_PV_VCPU_BASIC record of vcpu 0: the suspend record, edx of its vcpu_guest_context
    /// (a pfn in a stream: the save side converts it). The context's size gives the guest width. Null for another vCPU or
    /// a body of neither size (the verifier reports those; the page is then scrubbed like any other).
    /// </summary>
    private static ulong? StartInfoPfn(XenStreamReader reader)
    {
        var context = reader.BodyLength - LibxcBodySizes.VcpuHeader;
        var layout = context == VcpuGuestContextLayout.X86_64.Size ? VcpuGuestContextLayout.X86_64
            : context == VcpuGuestContextLayout.X86_32.Size ? VcpuGuestContextLayout.X86_32
            : null;
        if (layout is null)
        {
            return null;
        }
        var head = reader.BodyPrefix(LibxcBodySizes.VcpuHeader + layout.Rdx + layout.Width);
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != 0)
        {
            return null;
        }
        var edx = head[(LibxcBodySizes.VcpuHeader + layout.Rdx)..];
        return layout.Width == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(edx) : BinaryPrimitives.ReadUInt32LittleEndian(edx);
    }

    private static void ScanPageData(XenStreamReader reader, byte[] page, List<PageRange> pages, List<string> notes)
    {
        var body = reader.BodyLength;
        if (body < LibxcBodySizes.PageDataHeader)
        {
            notes.Add(Note(reader, "body shorter than its header: left as is"));
            return;
        }
        var start = reader.BodyOffset;
        var head = reader.BodyPrefix(LibxcBodySizes.PageDataHeader);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(head);
        var wordsEnd = LibxcBodySizes.PageDataHeader + (count * (long)LibxcBodySizes.PfnWord);
        if (wordsEnd > body)
        {
            notes.Add(Note(reader, $"count {count} does not fit the body: left as is"));
            return;
        }
        var words = new ulong[count];
        reader.SkipBody(LibxcBodySizes.PageDataHeader);
        Span<byte> w = stackalloc byte[8];
        for (var i = 0; i < count; i++)
        {
            reader.ReadBody(w);
            words[i] = BinaryPrimitives.ReadUInt64LittleEndian(w);
        }
        var dataPages = words.Count(x => PageWord.HasData(PageWord.TypeOf(x)));
        if (wordsEnd + (dataPages * (long)LibxcWire.PageSize) != body)
        {
            notes.Add(Note(reader, $"{dataPages} data pages do not match the body length {body}: left as is"));
            return;
        }
        var at = start + wordsEnd;
        foreach (var word in words)
        {
            var type = PageWord.TypeOf(word);
            if (!PageWord.HasData(type))
            {
                continue;
            }
            reader.ReadBody(page);
            var flags = IsZero(page) ? PageFlags.Zero : PageFlags.None;
            if (type != PageType.NoTab)
            {
                flags |= PageFlags.PageTable;
            }
            pages.Add(new PageRange(at, PageWord.PfnOf(word), flags));
            at += LibxcWire.PageSize;
        }
    }

    private static string Note(XenStreamReader r, string what) =>
        string.Create(CultureInfo.InvariantCulture, $"record #{r.RecordIndex} {r.RecordTypeName} at offset {r.Offset}: {what}");

    private static bool IsZero(ReadOnlySpan<byte> page) => !page.ContainsAnyExcept((byte)0);

    /// <summary>Writes patterns over the page ranges that fall in each block, in stream order.</summary>
    private sealed class Applier(List<PageRange> pages, ulong seed)
    {
        private readonly byte[] _pattern = new byte[LibxcWire.PageSize];
        private int _next;
        private ulong _patternPfn = ulong.MaxValue - 1;
        private bool _patternValid;

        public void Apply(Span<byte> block, long blockOffset)
        {
            var blockEnd = blockOffset + block.Length;
            // Ranges are in offset order; blocks come in order too (a capture's s2r chunks, or a sequential copy).
            while (_next < pages.Count && pages[_next].Offset + LibxcWire.PageSize <= blockOffset)
            {
                _next++;
            }
            for (var i = _next; i < pages.Count && pages[i].Offset < blockEnd; i++)
            {
                var p = pages[i];
                if (!p.Replace)
                {
                    continue;
                }
                if (!_patternValid || _patternPfn != p.Pfn)
                {
                    FillPattern(_pattern, p.Pfn, seed);
                    _patternPfn = p.Pfn;
                    _patternValid = true;
                }
                var from = Math.Max(p.Offset, blockOffset);
                var to = Math.Min(p.Offset + LibxcWire.PageSize, blockEnd);
                _pattern.AsSpan((int)(from - p.Offset), (int)(to - from)).CopyTo(block[(int)(from - blockOffset)..]);
            }
        }
    }
}
