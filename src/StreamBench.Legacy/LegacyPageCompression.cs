using System.Globalization;

namespace StreamBench.Formats.Legacy;

/// <summary>
/// Remus checkpoint compression (Xen 4.2 - 4.5, tools/libxc/xc_compression.c): each dirty page of a "format B" body
/// is sent as one of
/// <list type="bullet">
/// <item><c>0x00</c>: EMPTY_PAGE, the page did not change;</item>
/// <item><c>0x80</c> then 4096 bytes: FULL_PAGE (a page the sender had not cached, or a page table);</item>
/// <item>a sequence of runs, each a marker byte whose bit 7 means SKIP (keep the old words) and whose low 7 bits
/// are a length in 4-byte words (1..127), followed, for a copy run, by that many new words. The runs cover the page
/// exactly.</item>
/// </list>
/// The receiver applies a run sequence to its current copy of the page (the comments in Xen say XOR; the code
/// copies). The encodings of all pages of a body are concatenated over the body's COMPRESSED_DATA chunks, in the
/// order of the data-carrying pfns of its batches.
/// </summary>
public static class LegacyPageCompression
{
    /// <summary>The marker of an unchanged page.</summary>
    public const byte EmptyPage = 0x00;

    /// <summary>The marker of a whole page (the same bits as a zero-length skip).</summary>
    public const byte FullPage = 0x80;

    /// <summary>Bit 7 of a run marker: skip.</summary>
    public const byte SkipFlag = 0x80;

    /// <summary>Low 7 bits of a run marker: the length in words.</summary>
    public const byte LengthMask = 0x7F;

    /// <summary>The delta word: 4 bytes.</summary>
    public const int WordSize = 4;

    /// <summary>The largest encoding of one page: 8 runs of 508 bytes, one of 32, 9 markers.</summary>
    public const int WorstCaseSize = LegacyLayout.PageSize + 9;

    /// <summary>FULL_PAGE marker plus the page.</summary>
    public const int FullPageSize = LegacyLayout.PageSize + 1;

    /// <summary>The sender's page cache (DELTA_CACHE_SIZE / page size): deltas only refer to pages it holds.</summary>
    public const int SenderCachePages = 8192;

    /// <summary>Encodes a page the receiver does not have (FULL_PAGE). Returns the bytes written.</summary>
    public static int CompressFull(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        CheckPage(page, nameof(page));
        destination[0] = FullPage;
        page.CopyTo(destination[1..]);
        return FullPageSize;
    }

    /// <summary>
    /// Encodes <paramref name="current"/> as a delta against <paramref name="previous"/>, as compress_page does
    /// (runs of at most 127 words; an unchanged page is the single EMPTY_PAGE byte). Returns the bytes written;
    /// <paramref name="destination"/> needs <see cref="WorstCaseSize"/> bytes.
    /// </summary>
    public static int CompressDelta(ReadOnlySpan<byte> current, ReadOnlySpan<byte> previous, Span<byte> destination)
    {
        CheckPage(current, nameof(current));
        CheckPage(previous, nameof(previous));
        const int words = LegacyLayout.PageSize / WordSize;
        var length = 0;
        var runLength = 0;
        var runStart = 0;
        var wasCopying = false;
        var skipped = 0;
        for (var off = 0; off <= words; off++)
        {
            // Past the last word the run type flips, which flushes the last run.
            var copying = off < words
                ? !current.Slice(off * WordSize, WordSize).SequenceEqual(previous.Slice(off * WordSize, WordSize))
                : !wasCopying;
            if (runLength > 0 && (wasCopying != copying || runLength == LengthMask))
            {
                var bytes = runLength * WordSize;
                destination[length++] = (byte)(runLength | (wasCopying ? 0 : SkipFlag));
                if (wasCopying)
                {
                    current.Slice(runStart * WordSize, bytes).CopyTo(destination[length..]);
                    length += bytes;
                }
                else
                {
                    skipped += bytes;
                }
                runLength = 0;
                runStart = off;
            }
            runLength++;
            wasCopying = copying;
        }
        if (skipped == LegacyLayout.PageSize)
        {
            destination[0] = EmptyPage;
            length = 1;
        }
        return length;
    }

    private static void CheckPage(ReadOnlySpan<byte> page, string name)
    {
        if (page.Length != LegacyLayout.PageSize)
        {
            throw new ArgumentException("a page is 4096 bytes", name);
        }
    }
}

/// <summary>Receives the pages a <see cref="LegacyCompressedPageDecoder"/> completes, in pfn order.</summary>
/// <param name="word">The legacy pfn word, as announced.</param>
/// <param name="page">The page (4096 bytes), or empty for a word that carries no data (XTAB, XALLOC, BROKEN).</param>
public delegate void LegacyPageHandler(ulong word, ReadOnlySpan<byte> page);

/// <summary>
/// Decodes the pages of "format B" bodies as a stream. Announce each pfn word of the body's batches
/// (<see cref="Announce"/>), feed the COMPRESSED_DATA bytes as they come (<see cref="Feed"/>), and call
/// <see cref="EndOfBody"/> at chunk 0. Completed pages go to the handler in announcement order; words without data are
/// handed on as soon as every word before them is done.
/// <para>
/// A delta (or an EMPTY_PAGE) needs the receiver's current copy of the page. The decoder keeps the last contents of
/// the pages it has decoded in an LRU cache of <see cref="CacheCapacity"/> pages (the sender only sends deltas for pages
/// in its own 8192-page cache, so twice that covers every real stream); a delta for a page it does not hold is an
/// error, not a guess. Memory is bounded by the cache and by <see cref="MaxPending"/> announced words.
/// </para>
/// </summary>
public sealed class LegacyCompressedPageDecoder
{
    private enum Phase
    {
        Marker,
        FullPage,
        RunMarker,
        RunData,
    }

    private readonly LegacyPageHandler _handler;
    private readonly Dictionary<ulong, int> _slots = [];
    private readonly byte[] _page = new byte[LegacyLayout.PageSize];
    private byte[] _cache = [];
    private ulong[] _cachePfn = [];
    private int[] _prev = [];
    private int[] _next = [];
    private int _head = -1;
    private int _tail = -1;
    private int _used;
    private ulong[] _queue = new ulong[1024];
    private int _queueHead;
    private int _queueCount;
    private Phase _phase = Phase.Marker;
    private int _pagePos;
    private int _runLeft;

    /// <summary>Decodes with a cache of <paramref name="cacheCapacity"/> pages and at most <paramref name="maxPending"/> announced words.</summary>
    public LegacyCompressedPageDecoder(LegacyPageHandler handler, int cacheCapacity = 2 * LegacyPageCompression.SenderCachePages, int maxPending = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(cacheCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPending, 1);
        _handler = handler;
        CacheCapacity = cacheCapacity;
        MaxPending = maxPending;
    }

    /// <summary>Pages of previous contents kept.</summary>
    public int CacheCapacity { get; }

    /// <summary>The most words announced and not yet decoded.</summary>
    public int MaxPending { get; }

    /// <summary>Words announced and not yet handed on.</summary>
    public int Pending => _queueCount;

    /// <summary>Pages decoded so far.</summary>
    public long PagesDecoded { get; private set; }

    /// <summary>Absolute stream offset of the next fed byte, for errors (the caller sets it at each chunk).</summary>
    public long StreamOffset { get; set; }

    /// <summary>Queues a pfn word of a "format B" batch.</summary>
    public void Announce(ulong word)
    {
        if (_queueCount == 0 && !LegacyPfn.HasData(word))
        {
            _handler(word, default);
            return;
        }
        if (_queueCount >= MaxPending)
        {
            throw new StreamFormatException(string.Create(CultureInfo.InvariantCulture,
                $"more than {MaxPending} pfns announced ahead of their compressed pages"), StreamOffset, ErrorLayer.Legacy, -1, "PAGE_BATCH", "pfn[]");
        }
        if (_queueCount == _queue.Length)
        {
            var bigger = new ulong[Math.Min(_queue.Length * 2, MaxPending)];
            for (var i = 0; i < _queueCount; i++)
            {
                bigger[i] = _queue[(_queueHead + i) % _queue.Length];
            }
            _queue = bigger;
            _queueHead = 0;
        }
        _queue[(_queueHead + _queueCount) % _queue.Length] = word;
        _queueCount++;
    }

    /// <summary>Decodes the next compressed bytes.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            if (_queueCount == 0)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"compressed data for more pages than the batches announced ({data.Length - i} bytes left over)"), "data", i);
            }
            var word = _queue[_queueHead];
            switch (_phase)
            {
                case Phase.Marker:
                {
                    var marker = data[i++];
                    if (marker == LegacyPageCompression.EmptyPage)
                    {
                        Previous(word, i - 1).CopyTo(_page);
                        CompletePage();
                    }
                    else if (marker == LegacyPageCompression.FullPage)
                    {
                        _phase = Phase.FullPage;
                        _pagePos = 0;
                    }
                    else
                    {
                        Previous(word, i - 1).CopyTo(_page);
                        _pagePos = 0;
                        i = Run(marker, i, data);
                    }
                    break;
                }
                case Phase.FullPage:
                {
                    var n = Math.Min(LegacyLayout.PageSize - _pagePos, data.Length - i);
                    data.Slice(i, n).CopyTo(_page.AsSpan(_pagePos));
                    _pagePos += n;
                    i += n;
                    if (_pagePos == LegacyLayout.PageSize)
                    {
                        CompletePage();
                    }
                    break;
                }
                case Phase.RunMarker:
                    i = Run(data[i], i + 1, data);
                    break;
                default:
                {
                    var n = Math.Min(_runLeft, data.Length - i);
                    data.Slice(i, n).CopyTo(_page.AsSpan(_pagePos));
                    _pagePos += n;
                    _runLeft -= n;
                    i += n;
                    if (_runLeft == 0)
                    {
                        AfterRun(i);
                    }
                    break;
                }
            }
        }
        StreamOffset += data.Length;
    }

    /// <summary>Applies one run marker (already consumed at <paramref name="next"/> - 1); returns the next input index.</summary>
    private int Run(byte marker, int next, ReadOnlySpan<byte> data)
    {
        var length = (marker & LegacyPageCompression.LengthMask) * LegacyPageCompression.WordSize;
        if (length == 0)
        {
            throw Fail(string.Create(CultureInfo.InvariantCulture,
                $"zero-length run (marker 0x{marker:x2}) inside a page, at page offset {_pagePos}"), "run", next - 1);
        }
        if ((marker & LegacyPageCompression.SkipFlag) != 0)
        {
            _pagePos += length;
            AfterRun(next - 1);
            return next;
        }
        if (_pagePos + length > LegacyLayout.PageSize)
        {
            throw Fail(string.Create(CultureInfo.InvariantCulture,
                $"a copy run of {length} bytes at page offset {_pagePos} overruns the page"), "run", next - 1);
        }
        _runLeft = length;
        _phase = Phase.RunData;
        return next;
    }

    private void AfterRun(int at)
    {
        if (_pagePos < LegacyLayout.PageSize)
        {
            _phase = Phase.RunMarker;
            return;
        }
        if (_pagePos > LegacyLayout.PageSize)
        {
            throw Fail(string.Create(CultureInfo.InvariantCulture,
                $"the runs cover {_pagePos} bytes, not exactly one page"), "run", at);
        }
        CompletePage();
    }

    private void CompletePage()
    {
        var word = _queue[_queueHead];
        _queueHead = (_queueHead + 1) % _queue.Length;
        _queueCount--;
        _phase = Phase.Marker;
        _pagePos = 0;
        Remember(LegacyPfn.PfnOf(word), _page);
        PagesDecoded++;
        _handler(word, _page);
        // Words without data that were waiting behind this page go now.
        while (_queueCount > 0 && !LegacyPfn.HasData(_queue[_queueHead]))
        {
            var w = _queue[_queueHead];
            _queueHead = (_queueHead + 1) % _queue.Length;
            _queueCount--;
            _handler(w, default);
        }
    }

    /// <summary>Ends a body: every announced page must have been decoded.</summary>
    public void EndOfBody()
    {
        if (_queueCount != 0 || _phase != Phase.Marker)
        {
            throw Fail(string.Create(CultureInfo.InvariantCulture,
                $"the body ended with {_queueCount} announced pages not (completely) decoded"), "data");
        }
    }

    private ReadOnlySpan<byte> Previous(ulong word, int at)
    {
        var pfn = LegacyPfn.PfnOf(word);
        if (!_slots.TryGetValue(pfn, out var slot))
        {
            throw Fail(string.Create(CultureInfo.InvariantCulture,
                $"a delta for pfn 0x{pfn:x}, whose previous contents are not known (never sent compressed, or evicted from the {CacheCapacity}-page cache)"),
                "data", at);
        }
        return _cache.AsSpan(slot * LegacyLayout.PageSize, LegacyLayout.PageSize);
    }

    private void Remember(ulong pfn, ReadOnlySpan<byte> page)
    {
        if (!_slots.TryGetValue(pfn, out var slot))
        {
            if (_used < CacheCapacity)
            {
                slot = _used++;
                Grow(_used);
            }
            else
            {
                slot = _tail;
                Unlink(slot);
                _slots.Remove(_cachePfn[slot]);
            }
            _slots[pfn] = slot;
            _cachePfn[slot] = pfn;
        }
        else
        {
            Unlink(slot);
        }
        // Most recent first.
        _prev[slot] = -1;
        _next[slot] = _head;
        if (_head >= 0)
        {
            _prev[_head] = slot;
        }
        _head = slot;
        if (_tail < 0)
        {
            _tail = slot;
        }
        page.CopyTo(_cache.AsSpan(slot * LegacyLayout.PageSize, LegacyLayout.PageSize));
    }

    private void Unlink(int slot)
    {
        var p = _prev[slot];
        var n = _next[slot];
        if (p >= 0)
        {
            _next[p] = n;
        }
        else
        {
            _head = n;
        }
        if (n >= 0)
        {
            _prev[n] = p;
        }
        else
        {
            _tail = p;
        }
    }

    private void Grow(int slots)
    {
        if (slots <= _cachePfn.Length)
        {
            return;
        }
        var capacity = Math.Min(CacheCapacity, Math.Max(64, _cachePfn.Length * 2));
        Array.Resize(ref _cache, capacity * LegacyLayout.PageSize);
        Array.Resize(ref _cachePfn, capacity);
        Array.Resize(ref _prev, capacity);
        Array.Resize(ref _next, capacity);
    }

    private StreamFormatException Fail(string problem, string field, int index = 0) => new(
        problem, StreamOffset + index, ErrorLayer.Legacy, -1, "XC_SAVE_ID_COMPRESSED_DATA", field);
}
