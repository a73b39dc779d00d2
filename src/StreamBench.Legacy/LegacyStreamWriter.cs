using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>
/// Writes legacy (pre-4.6) libxc images piece by piece, in the layout <see cref="LegacyStreamReader"/> reads
/// (FORMATS.md 6): the header, PV extended info, the p2m frame list, page batches (with or without their pages),
/// every XC_SAVE_ID_* chunk, the end of the body, the PV and HVM tails and the QEMU record. The writer does not
/// enforce an order: tests use it to build malformed images too. Small fields are gathered in one buffer; page data
/// goes straight to the output.
/// </summary>
public sealed class LegacyStreamWriter : IDisposable
{
    private readonly BufferedSink _sink;
    private readonly bool _leaveOpen;

    /// <summary>Writes an image of a <paramref name="width"/> toolstack to <paramref name="output"/>.</summary>
    public LegacyStreamWriter(Stream output, LegacyWidth width, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (width is not (LegacyWidth.Bits32 or LegacyWidth.Bits64))
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "the writer needs an explicit width");
        }
        _sink = new BufferedSink(output);
        _leaveOpen = leaveOpen;
        Width = width;
    }

    /// <summary>The toolstack width.</summary>
    public LegacyWidth Width { get; }

    /// <summary>Size of a C unsigned long: 4 or 8.</summary>
    public int UlongSize => Width == LegacyWidth.Bits32 ? 4 : 8;

    /// <summary>Bytes written so far (including buffered ones).</summary>
    public long Position => _sink.Position;

    // ---- header ------------------------------------------------------------------------------------------------

    /// <summary><c>ulong p2m_size</c>.</summary>
    public void WriteHeader(ulong p2mSize) => WriteUlong(p2mSize);

    /// <summary>PV: the extended-info marker (~0 as a ulong) and <c>u32 total_len</c>; the blocks follow.</summary>
    public void WriteExtendedInfo(uint totalLength)
    {
        WriteUlong(Width == LegacyWidth.Bits32 ? LegacyWire.ExtendedInfoMarker32 : LegacyWire.ExtendedInfoMarker64);
        WriteU32(totalLength);
    }

    /// <summary>PV: one extended-info block <c>{char id[4]; u32 size; data}</c>.</summary>
    public void WriteExtendedBlock(ReadOnlySpan<byte> id, ReadOnlySpan<byte> data)
    {
        if (id.Length != 4)
        {
            throw new ArgumentException("a block id is 4 bytes", nameof(id));
        }
        WriteRaw(id);
        WriteU32((uint)data.Length);
        WriteRaw(data);
    }

    /// <summary>
    /// PV: the extended info as xc_domain_save writes it: a "vcpu" block (its data is vCPU 0's basic context, of the
    /// size that names the guest width), then "extv" (empty) and "xcnt" (u32 xsave record length) when asked for.
    /// </summary>
    public void WritePvExtendedInfo(ReadOnlySpan<byte> vcpuContext, bool extendedVcpuContext, uint xsaveLength)
    {
        var total = LegacyLayout.ExtendedBlockHeaderSize + vcpuContext.Length;
        if (extendedVcpuContext)
        {
            total += LegacyLayout.ExtendedBlockHeaderSize;
        }
        if (xsaveLength != 0)
        {
            total += LegacyLayout.ExtendedBlockHeaderSize + 4;
        }
        WriteExtendedInfo((uint)total);
        WriteExtendedBlock(LegacyLayout.VcpuBlockId, vcpuContext);
        if (extendedVcpuContext)
        {
            WriteExtendedBlock(LegacyLayout.ExtvBlockId, default);
        }
        if (xsaveLength != 0)
        {
            Span<byte> x = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(x, xsaveLength);
            WriteExtendedBlock(LegacyLayout.XcntBlockId, x);
        }
    }

    /// <summary>A list of ulongs (p2m frame list, unmapped pfns).</summary>
    public void WriteUlongs(ReadOnlySpan<ulong> values)
    {
        foreach (var v in values)
        {
            WriteUlong(v);
        }
    }

    // ---- body --------------------------------------------------------------------------------------------------

    /// <summary>A chunk id alone (the start of any chunk; tests use it for hand-made payloads).</summary>
    public void WriteChunkId(int id) => WriteI32(id);

    /// <summary>
    /// A page batch ("format A"): <c>int count; ulong pfn[count]</c>, then 4096 bytes for each word whose type is below
    /// BROKEN. <paramref name="pages"/> must hold exactly those pages.
    /// </summary>
    public void WritePageBatch(ReadOnlySpan<ulong> pfnWords, ReadOnlySpan<byte> pages)
    {
        var data = 0;
        foreach (var w in pfnWords)
        {
            if (LegacyPfn.HasData(w))
            {
                data++;
            }
        }
        if (pages.Length != data * LegacyLayout.PageSize)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{data} words carry data, so {data * LegacyLayout.PageSize} bytes of pages are needed, not {pages.Length}"), nameof(pages));
        }
        WritePfnBatch(pfnWords);
        WriteRaw(pages);
    }

    /// <summary>A batch of pfns without pages ("format B", Remus compression): the pages come in COMPRESSED_DATA.</summary>
    public void WritePfnBatch(ReadOnlySpan<ulong> pfnWords)
    {
        if (pfnWords.IsEmpty)
        {
            throw new ArgumentException("a batch has at least one pfn (0 is the end of the body)", nameof(pfnWords));
        }
        WriteI32(pfnWords.Length);
        WriteUlongs(pfnWords);
    }

    /// <summary>A chunk without payload: ENABLE_VERIFY_MODE, LAST_CHECKPOINT, ENABLE_COMPRESSION.</summary>
    public void WriteMarkerChunk(LegacyChunkId id)
    {
        if (id is not (LegacyChunkId.EnableVerifyMode or LegacyChunkId.LastCheckpoint or LegacyChunkId.EnableCompression))
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "this chunk has a payload");
        }
        WriteI32((int)id);
    }

    /// <summary>VCPU_INFO: <c>int max_vcpu_id; u64 bitmap[]</c> as given.</summary>
    public void WriteVcpuInfo(int maxVcpuId, ReadOnlySpan<ulong> bitmap)
    {
        WriteI32((int)LegacyChunkId.VcpuInfo);
        WriteI32(maxVcpuId);
        foreach (var w in bitmap)
        {
            WriteU64(w);
        }
    }

    /// <summary>VCPU_INFO for a set of online vCPUs (max_vcpu_id is the largest).</summary>
    public void WriteVcpuInfo(ReadOnlySpan<int> onlineVcpus)
    {
        var max = 0;
        foreach (var v in onlineVcpus)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(v);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(v, LegacyWire.MaxVcpuId);
            max = Math.Max(max, v);
        }
        Span<ulong> bitmap = stackalloc ulong[(max / 64) + 1];
        foreach (var v in onlineVcpus)
        {
            bitmap[v / 64] |= 1ul << (v % 64);
        }
        WriteVcpuInfo(max, bitmap);
    }

    /// <summary>One of the HVM-param chunks: <c>u32 pad; u64 value</c>.</summary>
    public void WriteHvmParamChunk(LegacyChunkId id, ulong value, uint pad = 0)
    {
        if (LegacyLayout.HvmParamOf(id) is null)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "not an HVM-param chunk");
        }
        WriteI32((int)id);
        WriteU32(pad);
        WriteU64(value);
    }

    /// <summary>TSC_INFO: <c>u32 mode; u64 nsec; u32 khz; u32 incarnation</c>.</summary>
    public void WriteTscInfo(LegacyTscInfo tsc)
    {
        WriteI32((int)LegacyChunkId.TscInfo);
        WriteU32(tsc.Mode);
        WriteU64(tsc.Nsec);
        WriteU32(tsc.Khz);
        WriteU32(tsc.Incarnation);
    }

    /// <summary>TOOLSTACK: <c>u32 size; u8 data[size]</c>.</summary>
    public void WriteToolstack(ReadOnlySpan<byte> blob)
    {
        WriteI32((int)LegacyChunkId.Toolstack);
        WriteU32((uint)blob.Length);
        WriteRaw(blob);
    }

    /// <summary>COMPRESSED_DATA: <c>ulong size; u8 data[size]</c> (delta-compressed pages, see <see cref="LegacyPageCompression"/>).</summary>
    public void WriteCompressedData(ReadOnlySpan<byte> data)
    {
        WriteI32((int)LegacyChunkId.CompressedData);
        WriteUlong((ulong)data.Length);
        WriteRaw(data);
    }

    /// <summary>TMEM: the chunk id and the client header (xc_tmem_save).</summary>
    public void WriteTmemClientHeader(uint version, uint maxPools, uint clientFlags, uint weight, uint cap)
    {
        WriteI32((int)LegacyChunkId.Tmem);
        WriteU32(version);
        WriteU32(maxPools);
        WriteU32(LegacyLayout.TmemMinusOne);
        WriteU32(clientFlags);
        WriteU32(weight);
        WriteU32(cap);
        WriteU32(LegacyLayout.TmemMinusOne);
    }

    /// <summary>TMEM: a pool header.</summary>
    public void WriteTmemPool(uint poolId, uint flags, uint pageCount, ulong uuidLo, ulong uuidHi)
    {
        WriteU32(poolId);
        WriteU32(flags);
        WriteU32(pageCount);
        WriteU64(uuidLo);
        WriteU64(uuidHi);
    }

    /// <summary>TMEM: one page of a pool (the page is the pool's page size).</summary>
    public void WriteTmemPage(ulong oid0, ulong oid1, ulong oid2, uint index, ReadOnlySpan<byte> page)
    {
        WriteU64(oid0);
        WriteU64(oid1);
        WriteU64(oid2);
        WriteU32(index);
        WriteRaw(page);
    }

    /// <summary>TMEM: the all-ones oid that ends a pool's pages early.</summary>
    public void WriteTmemPoolPagesEnd()
    {
        WriteU64(ulong.MaxValue);
        WriteU64(ulong.MaxValue);
        WriteU64(ulong.MaxValue);
    }

    /// <summary>TMEM / TMEM_EXTRA: the u32 -1 that ends the list.</summary>
    public void WriteTmemListEnd() => WriteU32(LegacyLayout.TmemMinusOne);

    /// <summary>TMEM_EXTRA: the chunk id (invalidations and the list end follow).</summary>
    public void WriteTmemExtraStart() => WriteI32((int)LegacyChunkId.TmemExtra);

    /// <summary>TMEM_EXTRA: one invalidation.</summary>
    public void WriteTmemInvalidation(uint poolId, ulong oid0, ulong oid1, ulong oid2, uint index)
    {
        WriteU32(poolId);
        WriteU64(oid0);
        WriteU64(oid1);
        WriteU64(oid2);
        WriteU32(index);
    }

    /// <summary>Chunk id 0: the end of the body.</summary>
    public void WriteEndOfBody() => WriteI32(0);

    // ---- tails -------------------------------------------------------------------------------------------------

    /// <summary>PV tail: <c>u32 nr_unmapped; ulong unmapped[]</c>.</summary>
    public void WritePvUnmapped(ReadOnlySpan<ulong> pfns)
    {
        WriteU32((uint)pfns.Length);
        WriteUlongs(pfns);
    }

    /// <summary>PV tail: one vCPU's basic context (of the "vcpu" block's size).</summary>
    public void WritePvVcpuBasic(ReadOnlySpan<byte> context) => WriteRaw(context);

    /// <summary>PV tail: one vCPU's 128-byte extended context (when "extv" was sent).</summary>
    public void WritePvVcpuExtended(ReadOnlySpan<byte> context)
    {
        if (context.Length != LegacyWire.ExtendedVcpuContextSize)
        {
            throw new ArgumentException("an extended context is 128 bytes", nameof(context));
        }
        WriteRaw(context);
    }

    /// <summary>PV tail: one vCPU's xsave record <c>u64 mask; u64 size; data</c> (when "xcnt" was sent).</summary>
    public void WritePvVcpuXsave(ulong mask, ReadOnlySpan<byte> data)
    {
        WriteU64(mask);
        WriteU64((ulong)data.Length);
        WriteRaw(data);
    }

    /// <summary>PV tail: the shared_info page.</summary>
    public void WriteSharedInfo(ReadOnlySpan<byte> page)
    {
        if (page.Length != LegacyLayout.SharedInfoSize)
        {
            throw new ArgumentException("shared_info is 4096 bytes", nameof(page));
        }
        WriteRaw(page);
    }

    /// <summary>HVM tail: the magic pfns, then <c>u32 len; u8 ctx[len]</c>.</summary>
    public void WriteHvmTail(LegacyHvmMagicPfns magic, ReadOnlySpan<byte> hvmContext)
    {
        WriteU64(magic.IoreqPfn);
        WriteU64(magic.BufioreqPfn);
        WriteU64(magic.StorePfn);
        WriteU32((uint)hvmContext.Length);
        WriteRaw(hvmContext);
    }

    /// <summary>The QEMU record: signature, then (0002 / Remus) <c>u32 len</c> and the data, or the data alone (to EOF).</summary>
    public void WriteQemuRecord(LegacyQemuSignature signature, ReadOnlySpan<byte> data)
    {
        switch (signature)
        {
            case LegacyQemuSignature.DeviceModelRecord0002:
                WriteRaw(LegacyWire.DeviceModelRecord0002);
                WriteU32((uint)data.Length);
                break;
            case LegacyQemuSignature.RemusDeviceModelState:
                WriteRaw(LegacyWire.RemusDeviceModelState);
                WriteU32((uint)data.Length);
                break;
            case LegacyQemuSignature.QemuDeviceModelRecord:
                WriteRaw(LegacyWire.QemuDeviceModelRecord);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(signature));
        }
        WriteRaw(data);
    }

    // ---- primitives --------------------------------------------------------------------------------------------

    /// <summary>A toolstack ulong (4 or 8 bytes).</summary>
    public void WriteUlong(ulong value)
    {
        if (Width == LegacyWidth.Bits32)
        {
            if (value > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "does not fit a 32-bit toolstack's unsigned long");
            }
            WriteU32((uint)value);
        }
        else
        {
            WriteU64(value);
        }
    }

    /// <summary>A little-endian int32.</summary>
    public void WriteI32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);

    /// <summary>A little-endian u32.</summary>
    public void WriteU32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);

    /// <summary>A little-endian u64.</summary>
    public void WriteU64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    /// <summary>Raw bytes.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes) => _sink.Write(bytes);

    private Span<byte> Reserve(int count) => _sink.Reserve(count);

    /// <summary>Writes buffered bytes and flushes the output.</summary>
    public void Flush()
    {
        _sink.FlushBuffer();
        _sink.Output.Flush();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sink.FlushBuffer();
        if (!_leaveOpen)
        {
            _sink.Output.Dispose();
        }
    }
}
