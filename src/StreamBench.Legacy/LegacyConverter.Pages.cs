using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

public static partial class LegacyConverter
{
    /// <summary>Page data: the P2M frame list, page batches (streamed), and the pages of compressed Remus checkpoints (decoded and re-batched).</summary>
    private sealed partial class Conversion
    {
        private readonly ulong[] _words = new ulong[LegacyWire.MaxBatch];
        private readonly ulong[] _sorted = new ulong[LegacyWire.MaxBatch];
        private readonly ulong[] _frames = new ulong[4096];
        private LegacyCompressedPageDecoder? _decoder;
        // Pages decoded from COMPRESSED_DATA, written as PAGE_DATA records of up to MaxBatch pfns.
        private ulong[]? _outWords;
        private byte[]? _outPages;
        private int _outCount;
        private int _outPageCount;

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
            _w.BeginRecord((uint)LibxcRecordType.X86PvP2mFrames, (uint)length);
            Span<byte> h = stackalloc byte[LibxcBodySizes.P2mFramesHeader];
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(_r.P2mSize - 1));
            _w.WriteBody(h);
            int n;
            while ((n = _r.ReadUlongs(_frames)) > 0)
            {
                var bytes = _scratch.AsSpan(0, n * 8);
                for (var i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes[(i * 8)..], _frames[i]);
                }
                _w.WriteBody(bytes);
            }
            _w.EndRecord();
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
                _decoder ??= new LegacyCompressedPageDecoder(DecodedPage, _o.CompressionCacheCapacity);
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
            _state.PageRecords++;
            _state.Pages += pages;
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
            _w.WritePageData(words, _outPages.AsSpan(0, _outPageCount * LegacyLayout.PageSize));
            _state.PageRecords++;
            _state.Pages += _outPageCount;
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
            _decoder ??= new LegacyCompressedPageDecoder(DecodedPage, _o.CompressionCacheCapacity);
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
    }
}
