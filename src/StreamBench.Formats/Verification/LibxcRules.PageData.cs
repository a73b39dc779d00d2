using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.LibxcChecks;
using StreamBench.X86;

namespace StreamBench.Formats.Verification;

/// <summary>LibxcRules, part: PAGE_DATA: the layout walk shared with the post-copy rules, pfn bounds and duplicates (FORMATS.md 4.1, 4.2).</summary>
internal sealed partial class LibxcRules
{
    // ---- PAGE_DATA ----

    private void PageData()
    {
        NeedStaticDataEnd(PageDataNoStaticDataEnd);
        if (_ctx.IsPv && !_p2mSeen && !_pageBeforeP2mReported)
        {
            _pageBeforeP2mReported = true;
            _ctx.Report(PageDataBeforeP2m, null, "expected X86_PV_P2M_FRAMES before the first PAGE_DATA of a PV stream, found none");
        }
        if (PageDataLayout(withPages: true, countPages: true, sink: null, out _) && _ctx.IsPv && _p2mSeen && _ctx.On(PageDataPtePfn))
        {
            PageTableEntries();
        }
        _sawPageData = true;
    }

    /// <summary>
    /// PV: the present entries of every page-table page in the record name pfns up to max_pfn (Xen's
    /// x86_pv_localise_page). Only page-table pages are read, and only when the pfn words were scanned in place and the
    /// body is as long as they say (otherwise the layout findings above already stand).
    /// </summary>
    private void PageTableEntries()
    {
        var r = _ctx.Reader;
        if (r.BodyRemaining != r.BodyLength)
        {
            return; // the words were streamed (a batch larger than the window: already a batch-size error)
        }
        var count = BinaryPrimitives.ReadUInt32LittleEndian(r.BodyPrefix(LibxcBodySizes.PageDataHeader));
        var pagesStart = PageDataBody.PrefixLength(count);
        // The page tables' word indices and data slots first: reading pages moves the window the words are in.
        List<(int Index, long Slot, PageType Type)>? tables = null;
        var words = r.BodyPrefix((int)pagesStart)[LibxcBodySizes.PageDataHeader..];
        long slot = 0;
        for (var i = 0; i < count; i++)
        {
            var type = PageWord.TypeOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * LibxcBodySizes.PfnWord, LibxcBodySizes.PfnWord)));
            if (PageWord.HasData(type))
            {
                if (((byte)type & 7) != 0)
                {
                    (tables ??= []).Add((i, slot, type));
                }
                slot++;
            }
        }
        if (tables is null || pagesStart + (slot * LibxcWire.PageSize) != r.BodyLength)
        {
            return; // no page tables, or a body the length finding already names
        }
        var page = ArrayPool<byte>.Shared.Rent(LibxcWire.PageSize);
        try
        {
            foreach (var (index, at, type) in tables)
            {
                var offset = pagesStart + (at * LibxcWire.PageSize);
                r.SkipBody(offset - (r.BodyLength - r.BodyRemaining));
                r.ReadBody(page.AsSpan(0, LibxcWire.PageSize));
                if (!CheckTable(page.AsSpan(0, LibxcWire.PageSize), offset, index, type))
                {
                    return; // one finding per record names the problem
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(page);
        }
    }

    private bool CheckTable(ReadOnlySpan<byte> table, long pageOffset, int index, PageType type)
    {
        var level = (byte)type & 7;
        for (var e = 0; e < PteFormat.EntriesPerTable; e++)
        {
            var pte = PteFormat.ReadEntry(table, e);
            if (PteFormat.IsPresent(pte) && PteFormat.Frame(pte) > _maxPfn)
            {
                _ctx.ReportInBody(PageDataPtePfn, pageOffset + e * PteFormat.EntrySize,
                    string.Create(CultureInfo.InvariantCulture, $"page[{index}].L{level}[{e}]"),
                    string.Create(CultureInfo.InvariantCulture,
                        $"expected present entries of this {PageWord.TypeName(type)} page to name pfns <= max_pfn 0x{_maxPfn:x} (from X86_PV_P2M_FRAMES), found 0x{pte:x16} (pfn 0x{PteFormat.Frame(pte):x})"));
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The PAGE_DATA layout (also the RFC's POSTCOPY_PAGE_DATA, and without pages POSTCOPY_PFNS and POSTCOPY_FAULT). Reads the header and pfn words only: in place when they fit the
    /// window, otherwise streamed through the scratch buffer. Never reads the pages. Returns false when the words could
    /// not be scanned (the record is too short for them).
    /// </summary>
    internal bool PageDataLayout(bool withPages, bool countPages, PfnWordSink? sink, out PageWordStats stats)
    {
        stats = default;
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len <= LibxcBodySizes.PageDataHeader)
        {
            _ctx.Report(PageDataTooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected more than {LibxcBodySizes.PageDataHeader} bytes (header and at least one pfn), found {len}"));
            return false;
        }
        var head = r.BodyPrefix(LibxcBodySizes.PageDataHeader);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(head);
        var reserved = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        if (reserved != 0)
        {
            _ctx.ReportInBody(PageDataReserved, 4, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{reserved:x8}"));
        }
        var prefix = PageDataBody.PrefixLength(count);
        if (len < prefix)
        {
            _ctx.ReportInBody(PageDataPfnWords, 0, "count", string.Create(CultureInfo.InvariantCulture,
                $"expected a body of at least {prefix} bytes for {count} pfn words, found {len}"));
            return false;
        }
        if (count > LibxcWire.MaxBatchSize)
        {
            _ctx.ReportInBody(PageDataBatchSize, 0, "count", string.Create(CultureInfo.InvariantCulture,
                $"expected at most {LibxcWire.MaxBatchSize} pfns per batch (MAX_BATCH_SIZE), found {count}"));
        }
        var inPlace = prefix <= _ctx.Window;
        ReadOnlySpan<byte> words = ScanWords(count, prefix, inPlace, sink, ref stats);
        ReportWordProblems(stats);
        var expected = withPages ? PageDataBody.ExpectedLength(count, stats.DataPages) : prefix;
        if (len != expected)
        {
            _ctx.Report(PageDataLength, "length", withPages
                ? string.Create(CultureInfo.InvariantCulture,
                    $"expected 8 + 8 × {count} + 4096 × {stats.DataPages} = {expected} bytes ({stats.DataPages} pfns carry data), found {len}")
                : string.Create(CultureInfo.InvariantCulture, $"expected 8 + 8 × {count} = {expected} bytes, found {len}"));
        }
        if (_ctx.IsPv && _p2mSeen && stats.MaxPfn > _maxPfn && count > 0)
        {
            var i = inPlace ? FirstAbove(words, _maxPfn) : -1;
            _ctx.ReportInBody(PageDataPfnRange, i >= 0 ? PageDataBody.WordOffset(i) : 0, i >= 0 ? string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]") : "pfn",
                string.Create(CultureInfo.InvariantCulture, $"expected pfns <= max_pfn 0x{_maxPfn:x} (from X86_PV_P2M_FRAMES), found 0x{stats.MaxPfn:x}"));
        }
        // Sorting needs a copy of the pfns: done for batches up to 64 Ki pfns (a bigger one is already a batch-size error).
        if (inPlace && !stats.StrictlyIncreasing && count <= MaxDuplicateCheck && _ctx.On(PageDataDuplicatePfn))
        {
            DuplicatePfns(words);
        }
        if (countPages)
        {
            var summary = _ctx.Summary;
            summary.PageDataRecords++;
            summary.PfnEntries += stats.Words;
            summary.DataPages += stats.DataPages;
        }
        return true;
    }

    // The pfn words: in place when they fit the window (returned), otherwise streamed through the scratch buffer
    // (returns an empty span). Either way every word goes into the stats and the sink.
    private ReadOnlySpan<byte> ScanWords(uint count, long prefix, bool inPlace, PfnWordSink? sink, ref PageWordStats stats)
    {
        var r = _ctx.Reader;
        ReadOnlySpan<byte> words = default;
        if (inPlace)
        {
            words = r.BodyPrefix((int)prefix)[LibxcBodySizes.PageDataHeader..];
            stats.Add(words);
            sink?.Invoke(words, 0);
        }
        else
        {
            var buffer = _ctx.Scratch;
            r.SkipBody(LibxcBodySizes.PageDataHeader);
            var left = (long)count * 8;
            long index = 0;
            while (left > 0)
            {
                var n = r.ReadBody(buffer.AsSpan(0, (int)Math.Min(left, buffer.Length)));
                var chunk = buffer.AsSpan(0, n);
                stats.Add(chunk);
                sink?.Invoke(chunk, index);
                index += n / 8;
                left -= n;
            }
        }
        return words;
    }

    // The first pfn word with reserved bits set, and the first with an invalid type, each with how many there are.
    private void ReportWordProblems(in PageWordStats stats)
    {
        if (stats.ReservedBitsSet > 0)
        {
            var i = stats.FirstReservedIndex;
            _ctx.ReportInBody(PageDataPfnReserved, PageDataBody.WordOffset(i), string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]"),
                string.Create(CultureInfo.InvariantCulture,
                    $"expected bits 52..59 clear, found 0x{stats.FirstReservedWord & PageWord.ReservedMask:x16} in word 0x{stats.FirstReservedWord:x16} ({stats.ReservedBitsSet} such words)"));
        }
        if (stats.InvalidTypes > 0)
        {
            var i = stats.FirstInvalidTypeIndex;
            _ctx.ReportInBody(PageDataPfnType, PageDataBody.WordOffset(i), string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]"),
                string.Create(CultureInfo.InvariantCulture,
                    $"expected a page type other than 5..8, found {(int)PageWord.TypeOf(stats.FirstInvalidTypeWord)} in word 0x{stats.FirstInvalidTypeWord:x16}"));
        }
    }

    private static long FirstAbove(ReadOnlySpan<byte> words, ulong max)
    {
        for (var i = 0; i < words.Length / 8; i++)
        {
            if (PageWord.PfnOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * 8, 8))) > max)
            {
                return i;
            }
        }
        return -1;
    }

    private void DuplicatePfns(ReadOnlySpan<byte> words)
    {
        var n = words.Length / 8;
        var pfns = ArrayPool<ulong>.Shared.Rent(n);
        try
        {
            for (var i = 0; i < n; i++)
            {
                pfns[i] = PageWord.PfnOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * 8, 8)));
            }
            var sorted = pfns.AsSpan(0, n);
            sorted.Sort();
            for (var i = 1; i < n; i++)
            {
                if (sorted[i] != sorted[i - 1])
                {
                    continue;
                }
                var pfn = sorted[i];
                long first = -1, second = -1;
                for (var j = 0; j < n && second < 0; j++)
                {
                    if (PageWord.PfnOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(j * 8, 8))) == pfn)
                    {
                        if (first < 0)
                        {
                            first = j;
                        }
                        else
                        {
                            second = j;
                        }
                    }
                }
                _ctx.ReportInBody(PageDataDuplicatePfn, PageDataBody.WordOffset(second), string.Create(CultureInfo.InvariantCulture, $"pfn[{second}]"),
                    string.Create(CultureInfo.InvariantCulture, $"expected each pfn once per batch, found pfn 0x{pfn:x} at indexes {first} and {second}"));
                return;
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(pfns);
        }
    }
}
