using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The parsing half of the reader: one method per item, in stream order (FORMATS.md 6.1 - 6.3).</summary>
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

    // ---- 6.2 body ----------------------------------------------------------------------------------------------

    private bool ReadChunk()
    {
        var at = StartItem();
        var h = Need(LegacyLayout.ChunkIdSize, "CHUNK", "id");
        var id = BinaryPrimitives.ReadInt32LittleEndian(h);
        _src.Advance(LegacyLayout.ChunkIdSize);
        RawChunkId = id;
        if (id > 0)
        {
            return ReadPageBatch(at, id);
        }
        var name = LegacyLayout.ChunkName(id);
        if (id == 0)
        {
            BeginItem(LegacyItemKind.EndOfBody, at, 0);
            _state = GuestType == LegacyGuestType.Pv ? State.PvUnmapped : State.HvmMagic;
            return true;
        }
        var chunk = (LegacyChunkId)id;
        if (LegacyLayout.HvmParamOf(chunk) is not null)
        {
            var p = Need(LegacyLayout.HvmParamChunkPayload, name, "pad/value");
            ChunkPad = BinaryPrimitives.ReadUInt32LittleEndian(p);
            ChunkValue = BinaryPrimitives.ReadUInt64LittleEndian(p[4..]);
            _src.Advance(LegacyLayout.HvmParamChunkPayload);
            BeginItem(LegacyItemKind.Chunk, at, 0);
            return true;
        }
        switch (chunk)
        {
            case LegacyChunkId.EnableVerifyMode:
                BeginItem(LegacyItemKind.Chunk, at, 0);
                return true;
            case LegacyChunkId.LastCheckpoint:
                LastCheckpointSeen = true;
                BeginItem(LegacyItemKind.Chunk, at, 0);
                return true;
            case LegacyChunkId.EnableCompression:
                // xc_domain_restore only acts on it before the first tail (ctx->completed == 0).
                if (CheckpointIndex == 0)
                {
                    _compressionRequested = true;
                }
                BeginItem(LegacyItemKind.Chunk, at, 0);
                return true;
            case LegacyChunkId.VcpuInfo:
                return ReadVcpuInfo(at, name);
            case LegacyChunkId.TscInfo:
            {
                var p = Need(LegacyLayout.TscChunkPayload, name, "mode/nsec/khz/incarnation");
                Tsc = new LegacyTscInfo(BinaryPrimitives.ReadUInt32LittleEndian(p), BinaryPrimitives.ReadUInt64LittleEndian(p[4..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(p[12..]), BinaryPrimitives.ReadUInt32LittleEndian(p[16..]));
                _src.Advance(LegacyLayout.TscChunkPayload);
                BeginItem(LegacyItemKind.Chunk, at, 0);
                return true;
            }
            case LegacyChunkId.CompressedData:
            {
                // xc_domain_save writes the size as an unsigned long (convert-legacy-stream reads a u32, but only to fail).
                var p = Need(UlongSize, name, "size");
                var size = ReadUlong(p);
                if (size > long.MaxValue)
                {
                    throw Error(string.Create(CultureInfo.InvariantCulture, $"compressed chunk size 0x{size:x} is not a file size"), at + 4, name, "size");
                }
                _src.Advance(UlongSize);
                BeginItem(LegacyItemKind.CompressedData, at, (long)size);
                return true;
            }
            case LegacyChunkId.Toolstack:
            {
                var size = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.ToolstackSizeField, name, "size"));
                _src.Advance(LegacyLayout.ToolstackSizeField);
                BeginItem(LegacyItemKind.Toolstack, at, size);
                return true;
            }
            case LegacyChunkId.Tmem:
                return ReadTmemClient(at, name);
            case LegacyChunkId.TmemExtra:
                return ReadTmemInvalidation(at);
            default:
                throw Error(string.Create(CultureInfo.InvariantCulture, $"unrecognised chunk id {id}"), at, name, "id");
        }
    }

    private bool ReadPageBatch(long at, int count)
    {
        const string name = "PAGE_BATCH";
        if (count > LegacyWire.MaxBatch)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture, $"page batch of {count} pages exceeds MAX_BATCH ({LegacyWire.MaxBatch})"),
                at, name, "count");
        }
        var size = UlongSize;
        var bytes = _scratch.AsSpan(0, count * size);
        ReadExact(bytes, name, "pfn[]");
        var data = 0;
        for (var i = 0; i < count; i++)
        {
            var word = ReadUlong(bytes[(i * size)..]);
            _pfnWords[i] = word;
            if (LegacyPfn.HasData(word))
            {
                data++;
            }
        }
        _pfnCount = count;
        DataPageCount = data;
        BeginItem(LegacyItemKind.PageBatch, at, InCompressedBody ? 0 : (long)data * LegacyLayout.PageSize);
        return true;
    }

    private bool ReadVcpuInfo(long at, string name)
    {
        var maxId = BinaryPrimitives.ReadInt32LittleEndian(Need(LegacyLayout.VcpuInfoMaxIdSize, name, "max_vcpu_id"));
        _src.Advance(LegacyLayout.VcpuInfoMaxIdSize);
        if (maxId > LegacyWire.MaxVcpuId)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture, $"max_vcpu_id {maxId} is out of range (> {LegacyWire.MaxVcpuId})"),
                at + 4, name, "max_vcpu_id");
        }
        int words;
        if (_options.Semantics == LegacySemantics.LibxcRestore)
        {
            if (maxId < 0)
            {
                throw Error(string.Create(CultureInfo.InvariantCulture, $"max_vcpu_id {maxId} is negative"), at + 4, name, "max_vcpu_id");
            }
            words = (maxId / 64) + 1;
        }
        else
        {
            // Python's floor division: a negative max_id reads no bitmap at all.
            words = Math.Max(0, FloorDiv(maxId, 64) + 1);
        }
        var bytes = _scratch.AsSpan(0, words * sizeof(ulong));
        ReadExact(bytes, name, "bitmap");
        for (var i = 0; i < words; i++)
        {
            _vcpuBitmap[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * 8)..]);
        }
        VcpuBitmapWords = words;
        MaxVcpuId = maxId;
        if (_options.Semantics == LegacySemantics.LibxcRestore || (CheckpointIndex > 0 && !_vcpuInfoSeenThisBody))
        {
            _onlineCount = 0;
        }
        _vcpuInfoSeenThisBody = true;
        for (var i = 0; i < words; i++)
        {
            var word = _vcpuBitmap[i];
            for (var bit = 0; word != 0; bit++, word >>= 1)
            {
                if ((word & 1) == 0)
                {
                    continue;
                }
                var vcpu = (i * 64) + bit;
                if (_options.Semantics == LegacySemantics.LibxcRestore && vcpu > maxId)
                {
                    continue;
                }
                AddOnline(vcpu, at, name);
            }
        }
        BeginItem(LegacyItemKind.Chunk, at, 0);
        return true;
    }

    private void AddOnline(int vcpu, long at, string name)
    {
        if (_onlineCount >= _options.MaxOnlineVcpuEntries)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture,
                $"VCPU_INFO chunks name more than {_options.MaxOnlineVcpuEntries} online vCPU entries (convert-legacy-stream appends each chunk's map)"),
                at, name, "bitmap");
        }
        if (_onlineCount == _online.Length)
        {
            Array.Resize(ref _online, Math.Min(_online.Length * 2, _options.MaxOnlineVcpuEntries));
        }
        _online[_onlineCount++] = vcpu;
    }

    private static int FloorDiv(int a, int b) => (a / b) - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);

    // ---- TMEM (tools/libxc/xc_tmem.c, Xen ≤ 4.5) ------------------------------------------------------------------

    private bool ReadTmemClient(long at, string name)
    {
        var h = Need(LegacyLayout.TmemClientHeaderSize, name, "client header");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(h);
        var maxPools = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
        var minusOne = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
        if (minusOne != LegacyLayout.TmemMinusOne)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture, $"expected -1 after max_pools, found 0x{minusOne:x}"), at + 12, name, "minusone");
        }
        // The second -1 (after cap) is not checked by xc_tmem_restore either.
        Tmem = new LegacyTmemFields(LegacyTmemPart.ClientHeader, version, maxPools, BinaryPrimitives.ReadUInt32LittleEndian(h[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(h[16..]), BinaryPrimitives.ReadUInt32LittleEndian(h[20..]), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        _src.Advance(LegacyLayout.TmemClientHeaderSize);
        BeginItem(LegacyItemKind.Tmem, at, 0);
        _state = State.TmemPools;
        return true;
    }

    private bool ReadTmemPool()
    {
        var at = StartItem();
        var name = LegacyLayout.ChunkName((int)LegacyChunkId.Tmem);
        var poolId = BinaryPrimitives.ReadUInt32LittleEndian(Need(4, name, "pool_id"));
        _src.Advance(4);
        if (poolId == LegacyLayout.TmemMinusOne)
        {
            Tmem = Tmem with { Part = LegacyTmemPart.End, PoolId = poolId };
            BeginItem(LegacyItemKind.Tmem, at, 0);
            _state = State.Body;
            return true;
        }
        var h = Need(LegacyLayout.TmemPoolHeaderSize, name, "pool header");
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(h);
        var pages = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
        var pageSize = 1 << (int)(((flags >> LegacyLayout.TmemPoolPageSizeShift) & LegacyLayout.TmemPoolPageSizeMask) + 12);
        Tmem = Tmem with
        {
            Part = LegacyTmemPart.Pool,
            PoolId = poolId,
            PoolFlags = flags,
            PageCount = pages,
            UuidLo = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
            UuidHi = BinaryPrimitives.ReadUInt64LittleEndian(h[16..]),
            PageSize = pageSize,
        };
        _src.Advance(LegacyLayout.TmemPoolHeaderSize);
        // xc_tmem_restore counts down in an int: a count above INT_MAX means no pages.
        _tmemPagesLeft = Math.Max(0, (int)pages);
        _state = _tmemPagesLeft > 0 ? State.TmemPages : State.TmemPools;
        BeginItem(LegacyItemKind.Tmem, at, 0);
        return true;
    }

    private bool ReadTmemPage()
    {
        var at = StartItem();
        var name = LegacyLayout.ChunkName((int)LegacyChunkId.Tmem);
        var h = Need(LegacyLayout.TmemOidSize, name, "oid");
        var o0 = BinaryPrimitives.ReadUInt64LittleEndian(h);
        var o1 = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
        var o2 = BinaryPrimitives.ReadUInt64LittleEndian(h[16..]);
        _src.Advance(LegacyLayout.TmemOidSize);
        if (o0 == ulong.MaxValue && o1 == ulong.MaxValue && o2 == ulong.MaxValue)
        {
            Tmem = Tmem with { Part = LegacyTmemPart.PoolPagesEnd, Oid0 = o0, Oid1 = o1, Oid2 = o2 };
            BeginItem(LegacyItemKind.Tmem, at, 0);
            _state = State.TmemPools;
            return true;
        }
        var index = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.TmemIndexSize, name, "index"));
        _src.Advance(LegacyLayout.TmemIndexSize);
        Tmem = Tmem with { Part = LegacyTmemPart.Page, Oid0 = o0, Oid1 = o1, Oid2 = o2, Index = index };
        BeginItem(LegacyItemKind.Tmem, at, Tmem.PageSize);
        if (--_tmemPagesLeft == 0)
        {
            _state = State.TmemPools;
        }
        return true;
    }

    private bool ReadTmemInvalidation() => ReadTmemInvalidation(StartItem());

    private bool ReadTmemInvalidation(long at)
    {
        var name = LegacyLayout.ChunkName((int)LegacyChunkId.TmemExtra);
        RawChunkId = (int)LegacyChunkId.TmemExtra;
        var poolId = BinaryPrimitives.ReadUInt32LittleEndian(Need(4, name, "pool_id"));
        _src.Advance(4);
        if (poolId == LegacyLayout.TmemMinusOne)
        {
            Tmem = new LegacyTmemFields(LegacyTmemPart.End, 0, 0, 0, 0, 0, poolId, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            BeginItem(LegacyItemKind.TmemExtra, at, 0);
            _state = State.Body;
            return true;
        }
        var h = Need(LegacyLayout.TmemInvalidationSize, name, "oid/index");
        Tmem = new LegacyTmemFields(LegacyTmemPart.Invalidation, 0, 0, 0, 0, 0, poolId, 0, 0, 0, 0,
            BinaryPrimitives.ReadUInt64LittleEndian(h), BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(h[16..]), BinaryPrimitives.ReadUInt32LittleEndian(h[24..]), 0);
        _src.Advance(LegacyLayout.TmemInvalidationSize);
        BeginItem(LegacyItemKind.TmemExtra, at, 0);
        _state = State.TmemExtra;
        return true;
    }

    // ---- 6.3 tails ---------------------------------------------------------------------------------------------

    private bool ReadPvUnmapped()
    {
        var at = StartItem();
        var count = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.UnmappedCountSize, "PV_TAIL_UNMAPPED_PFNS", "nr_unmapped"));
        _src.Advance(LegacyLayout.UnmappedCountSize);
        UnmappedCount = count;
        BeginItem(LegacyItemKind.PvUnmappedPfns, at, (long)count * UlongSize);
        _vcpuCursor = 0;
        _vcpuStep = VcpuStep.Basic;
        _state = State.PvVcpus;
        return true;
    }

    private bool ReadPvVcpu()
    {
        while (_vcpuCursor < _onlineCount)
        {
            var vcpu = _online[_vcpuCursor];
            switch (_vcpuStep)
            {
                case VcpuStep.Basic:
                {
                    var at = StartItem();
                    VcpuId = vcpu;
                    BeginItem(LegacyItemKind.PvVcpuBasic, at, BasicContextSize);
                    _vcpuStep = VcpuStep.Extended;
                    return true;
                }
                case VcpuStep.Extended:
                    _vcpuStep = VcpuStep.Xsave;
                    if (HasExtendedVcpuContext)
                    {
                        var at = StartItem();
                        VcpuId = vcpu;
                        BeginItem(LegacyItemKind.PvVcpuExtended, at, LegacyWire.ExtendedVcpuContextSize);
                        return true;
                    }
                    continue;
                default:
                    _vcpuStep = VcpuStep.Basic;
                    _vcpuCursor++;
                    if (XsaveLength != 0)
                    {
                        var at = StartItem();
                        const string name = "PV_TAIL_VCPU_XSAVE";
                        var h = Need(LegacyLayout.XsaveHeaderSize, name, "mask/size");
                        var mask = BinaryPrimitives.ReadUInt64LittleEndian(h);
                        var size = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
                        if (XsaveLength < LegacyLayout.XsaveHeaderSize || size != XsaveLength - LegacyLayout.XsaveHeaderSize)
                        {
                            throw Error(string.Create(CultureInfo.InvariantCulture,
                                $"vCPU {vcpu} xsave size {size} differs from the \"xcnt\" length {XsaveLength} minus 16"), at + 8, name, "size");
                        }
                        _src.Advance(LegacyLayout.XsaveHeaderSize);
                        VcpuId = vcpu;
                        XsaveMask = mask;
                        BeginItem(LegacyItemKind.PvVcpuXsave, at, (long)size);
                        return true;
                    }
                    continue;
            }
        }
        return false;
    }

    private bool ReadSharedInfo()
    {
        var at = StartItem();
        BeginItem(LegacyItemKind.SharedInfo, at, LegacyLayout.SharedInfoSize);
        ImageComplete();
        return true;
    }

    private bool ReadHvmMagic()
    {
        var at = StartItem();
        var h = Need(LegacyLayout.HvmMagicPfnsSize, "HVM_TAIL_MAGIC_PFNS", "ioreq/bufioreq/store");
        MagicPfns = new LegacyHvmMagicPfns(BinaryPrimitives.ReadUInt64LittleEndian(h), BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(h[16..]));
        _src.Advance(LegacyLayout.HvmMagicPfnsSize);
        BeginItem(LegacyItemKind.HvmMagicPfns, at, 0);
        _state = State.HvmContext;
        return true;
    }

    private bool ReadHvmContext()
    {
        var at = StartItem();
        var length = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.HvmContextLengthSize, "HVM_TAIL_CONTEXT", "length"));
        _src.Advance(LegacyLayout.HvmContextLengthSize);
        BeginItem(LegacyItemKind.HvmContext, at, length);
        _state = State.Qemu;
        return true;
    }

    private bool ReadQemu()
    {
        switch (_options.QemuRecord)
        {
            case LegacyQemuRecordHandling.Skip:
                ImageComplete();
                return false;
            case LegacyQemuRecordHandling.Auto when _src.AtEnd:
                ImageComplete();
                return false;
        }
        var at = StartItem();
        const string name = "QEMU_RECORD";
        Need(LegacyWire.QemuSignatureSize, name, "signature").CopyTo(_qemuSignature);
        _src.Advance(LegacyWire.QemuSignatureSize);
        ReadOnlySpan<byte> sig = _qemuSignature;
        if (sig.SequenceEqual(LegacyWire.DeviceModelRecord0002) || sig.SequenceEqual(LegacyWire.RemusDeviceModelState))
        {
            QemuSignature = sig.SequenceEqual(LegacyWire.DeviceModelRecord0002)
                ? LegacyQemuSignature.DeviceModelRecord0002
                : LegacyQemuSignature.RemusDeviceModelState;
            var length = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.QemuLengthSize, name, "length"));
            _src.Advance(LegacyLayout.QemuLengthSize);
            BeginItem(LegacyItemKind.QemuRecord, at, length);
        }
        else if (sig.SequenceEqual(LegacyWire.QemuDeviceModelRecord))
        {
            QemuSignature = LegacyQemuSignature.QemuDeviceModelRecord;
            var length = _src.Length is long total ? total - _src.Position : -1;
            BeginItem(LegacyItemKind.QemuRecord, at, length);
        }
        else
        {
            QemuSignature = LegacyQemuSignature.None;
            throw Error($"unrecognised QEMU signature \"{Printable(sig)}\"", at, name, "signature");
        }
        ImageComplete();
        return true;
    }
}
