using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The body (FORMATS.md 6.2): page batches and the XC_SAVE_ID_* chunks, TMEM part by part.</summary>
public sealed partial class LegacyStreamReader
{
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
}
