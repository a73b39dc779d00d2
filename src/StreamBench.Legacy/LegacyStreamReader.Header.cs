using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The image header (FORMATS.md 6.1): p2m_size and the width/guest detection, the PV extended info and its blocks, the p2m frame list.</summary>
public sealed partial class LegacyStreamReader
{
    // ---- 6.1 header --------------------------------------------------------------------------------------------

    private bool ReadHeader()
    {
        var at = StartItem();
        var width = _options.Width;
        var guest = _options.GuestType;
        DetectionReason = "forced by the caller";
        if (width == LegacyWidth.Auto || guest == LegacyGuestType.Auto)
        {
            var want = Math.Min(LegacyFormatDetector.BytesNeeded, _src.MaxWindow);
            _src.Ensure(want);
            var head = _src.Peek(Math.Min(want, _src.Available));
            if (head.Length < 8)
            {
                throw new StreamFormatException(
                    string.Create(CultureInfo.InvariantCulture, $"stream truncated: telling the toolstack width needs 8 bytes, {head.Length} present"),
                    at, ErrorLayer.Legacy, _itemCounter, "IMAGE_HEADER", "p2m_size", truncated: true);
            }
            var detection = LegacyFormatDetector.Detect(head, width, guest);
            width = detection.Width;
            guest = detection.GuestType;
            DetectionReason = detection.Reason;
        }
        Width = width;
        GuestType = guest;
        var h = Need(UlongSize, "IMAGE_HEADER", "p2m_size");
        P2mSize = ReadUlong(h);
        _src.Advance(UlongSize);
        BeginItem(LegacyItemKind.Header, at, 0);
        _state = GuestType == LegacyGuestType.Pv ? State.ExtendedInfo : State.Body;
        return true;
    }

    private bool ReadExtendedInfo()
    {
        var at = StartItem();
        const string name = "EXTENDED_INFO";
        var h = Need(UlongSize + LegacyLayout.ExtendedInfoLengthSize, name, "marker");
        var marker = ReadUlong(h);
        var expected = Width == LegacyWidth.Bits32 ? LegacyWire.ExtendedInfoMarker32 : LegacyWire.ExtendedInfoMarker64;
        if (marker != expected)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture,
                $"unexpected extended-info marker 0x{marker:x} (expected 0x{expected:x}); a PV image without extended info is not supported"),
                at, name, "marker");
        }
        ExtendedInfoLength = BinaryPrimitives.ReadUInt32LittleEndian(h[UlongSize..]);
        _src.Advance(UlongSize + LegacyLayout.ExtendedInfoLengthSize);
        _extendedLeft = ExtendedInfoLength;
        BeginItem(LegacyItemKind.ExtendedInfo, at, 0);
        _state = State.ExtendedBlocks;
        return true;
    }

    private bool ReadExtendedBlock()
    {
        var at = StartItem();
        const string name = "EXTENDED_INFO_BLOCK";
        if (_extendedLeft < LegacyLayout.ExtendedBlockHeaderSize)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture,
                $"the extended info's total_len leaves {_extendedLeft} bytes, too few for a block header ({LegacyLayout.ExtendedBlockHeaderSize})"),
                at, name, "total_len");
        }
        var h = Need(LegacyLayout.ExtendedBlockHeaderSize, name, "id/size");
        h[..4].CopyTo(_blockId);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
        _src.Advance(LegacyLayout.ExtendedBlockHeaderSize);
        _extendedLeft -= LegacyLayout.ExtendedBlockHeaderSize;
        if (size > _extendedLeft)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture,
                $"block \"{BlockName}\" of {size} bytes overshoots the extended info's total_len by {size - _extendedLeft} bytes"),
                at + 4, name, "size");
        }
        _extendedLeft -= size;
        BeginItem(LegacyItemKind.ExtendedInfoBlock, at, size);
        ReadOnlySpan<byte> id = _blockId;
        if (id.SequenceEqual(LegacyLayout.VcpuBlockId))
        {
            (GuestWidth, PtLevels) = size switch
            {
                LegacyWire.VcpuBlockSize64 => (8, 4),
                LegacyWire.VcpuBlockSize32 => (4, 3),
                _ => throw Error(string.Create(CultureInfo.InvariantCulture,
                    $"\"vcpu\" block size 0x{size:x} is neither 0x{LegacyWire.VcpuBlockSize64:x} (64-bit, 4 levels) nor 0x{LegacyWire.VcpuBlockSize32:x} (32-bit, 3 levels): guest width unknown"),
                    at + 4, name, "size"),
            };
            BasicContextSize = (int)size;
        }
        else if (id.SequenceEqual(LegacyLayout.ExtvBlockId))
        {
            HasExtendedVcpuContext = true;
        }
        else if (id.SequenceEqual(LegacyLayout.XcntBlockId))
        {
            if (size < 4)
            {
                throw Error(string.Create(CultureInfo.InvariantCulture, $"\"xcnt\" block of {size} bytes cannot hold its u32 xsave length"),
                    at + 4, name, "size");
            }
            XsaveLength = BinaryPrimitives.ReadUInt32LittleEndian(Need(4, name, "xcnt"));
        }
        else if (_options.Semantics == LegacySemantics.XenConverter)
        {
            throw Error($"unrecognised extended-info block \"{BlockName}\"", at, name, "id");
        }
        return true;
    }

    private bool ReadP2mFrames()
    {
        var at = StartItem();
        const string name = "P2M_FRAME_LIST";
        if (GuestWidth == 0)
        {
            throw Error("the extended info has no \"vcpu\" block, so the guest width and the length of the p2m frame list are unknown",
                at, name, "vcpu");
        }
        var framesPerPage = (ulong)(LegacyLayout.PageSize / GuestWidth);
        FrameCount = P2mSize == 0 ? 0 : (long)(((P2mSize - 1) / framesPerPage) + 1);
        BeginItem(LegacyItemKind.P2mFrameList, at, FrameCount * UlongSize);
        _state = State.Body;
        return true;
    }

    /// <summary>P2M frame list / unmapped pfns: reads the next ulongs of the body, widened; returns how many.</summary>
    public int ReadUlongs(Span<ulong> destination)
    {
        if (Kind is not (LegacyItemKind.P2mFrameList or LegacyItemKind.PvUnmappedPfns))
        {
            throw new InvalidOperationException("not on a list of ulongs");
        }
        var size = UlongSize;
        var count = (int)Math.Min(destination.Length, BodyRemaining / size);
        var done = 0;
        while (done < count)
        {
            var step = Math.Min(count - done, _scratch.Length / size);
            var bytes = _scratch.AsSpan(0, step * size);
            var n = ReadBody(bytes);
            for (var i = 0; i < n / size; i++)
            {
                destination[done + i] = ReadUlong(bytes[(i * size)..]);
            }
            done += n / size;
        }
        return done;
    }
}
