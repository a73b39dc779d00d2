using System.Buffers.Binary;
using System.Text;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>What <see cref="LegacySyntheticImage"/> builds: a legacy image shaped like xc_domain_save's output.</summary>
public sealed record LegacySyntheticOptions
{
    /// <summary>The toolstack width.</summary>
    public LegacyWidth Width { get; init; } = LegacyWidth.Bits64;

    /// <summary>PV or HVM.</summary>
    public LegacyGuestType Guest { get; init; } = LegacyGuestType.Hvm;

    /// <summary>PV: the guest width, 8 (64-bit, 4 levels) or 4 (32-bit PAE, 3 levels).</summary>
    public int GuestWidth { get; init; } = 8;

    /// <summary>Pages of data in the first image.</summary>
    public int Pages { get; init; } = 64;

    /// <summary>pfns per batch (1..1024).</summary>
    public int BatchSize { get; init; } = LegacyWire.MaxBatch;

    /// <summary>Varies contents, pfns and values.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Online vCPUs (0..Vcpus-1; PV tails carry one context each).</summary>
    public int Vcpus { get; init; } = 1;

    /// <summary>Send XC_SAVE_ID_VCPU_INFO (without it, the PV tail has no vCPU contexts).</summary>
    public bool VcpuInfo { get; init; } = true;

    /// <summary>Send XC_SAVE_ID_TSC_INFO.</summary>
    public bool TscInfo { get; init; } = true;

    /// <summary>Send XC_SAVE_ID_TOOLSTACK with a libxl physmap blob (version 1).</summary>
    public bool Toolstack { get; init; }

    /// <summary>Physmap entries in the toolstack blob.</summary>
    public int PhysmapEntries { get; init; } = 2;

    /// <summary>HVM: write the QEMU record after the tail.</summary>
    public bool QemuRecord { get; init; } = true;

    /// <summary>HVM: the QEMU record's signature (checkpoints always use RemusDeviceModelState).</summary>
    public LegacyQemuSignature QemuSignature { get; init; } = LegacyQemuSignature.DeviceModelRecord0002;

    /// <summary>HVM: send every HVM-param chunk (IDENT_PT, VM86_TSS, CONSOLE_PFN, ...).</summary>
    public bool HvmParamChunks { get; init; } = true;

    /// <summary>PV: send "extv" and a 128-byte extended context per vCPU.</summary>
    public bool ExtendedVcpuContext { get; init; } = true;

    /// <summary>PV: xsave bytes per vCPU (0: no "xcnt" block).</summary>
    public int XsaveSize { get; init; }

    /// <summary>PV: entries in the tail's unmapped-pfn list.</summary>
    public int UnmappedPfns { get; init; }

    /// <summary>Mix in XTAB, XALLOC, BROKEN and page-table words, and xc_domain_save's XTAB-pfn-0 padding.</summary>
    public bool OddPages { get; init; }

    /// <summary>Send ENABLE_VERIFY_MODE and resend a few pages after it (xl migrate --debug).</summary>
    public bool VerifyMode { get; init; }

    /// <summary>Send LAST_CHECKPOINT (a plain save). Ignored when <see cref="Checkpoints"/> is set.</summary>
    public bool LastCheckpoint { get; init; } = true;

    /// <summary>Remus checkpoints after the first image (body, tail and QEMU record again, dirty pages only).</summary>
    public int Checkpoints { get; init; }

    /// <summary>Send ENABLE_COMPRESSION in the first body; checkpoints then use "format B" (COMPRESSED_DATA).</summary>
    public bool Compression { get; init; }

    /// <summary>Pages dirtied in each checkpoint.</summary>
    public int DirtyPagesPerCheckpoint { get; init; } = 16;

    /// <summary>HVM: bytes of HVM context.</summary>
    public int HvmContextSize { get; init; } = 256;

    /// <summary>HVM: bytes of QEMU state.</summary>
    public int QemuSize { get; init; } = 1024;
}

/// <summary>
/// Builds legacy images from content made up on the spot (pages, vCPU contexts, params): for tests, the corpus and
/// benchmarks. The output follows xc_domain_save's order: header, [PV extended info, p2m frame list], page batches,
/// TSC_INFO, VCPU_INFO, HVM params, TOOLSTACK, LAST_CHECKPOINT / ENABLE_COMPRESSION, end, tail, QEMU record, then
/// Remus checkpoints if asked. Page contents depend only on (seed, pfn, version), so nothing is kept per page and an
/// image of any size is written in constant memory.
/// </summary>
public static class LegacySyntheticImage
{
    /// <summary>Writes the image to a new array.</summary>
    public static byte[] Generate(LegacySyntheticOptions options)
    {
        using var ms = new MemoryStream();
        Write(options, ms);
        return ms.ToArray();
    }

    /// <summary>Writes the image to <paramref name="output"/>.</summary>
    public static void Write(LegacySyntheticOptions options, Stream output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Pages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.BatchSize, LegacyWire.MaxBatch);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Vcpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Vcpus, LegacyWire.MaxVcpuId + 1);
        var pv = options.Guest == LegacyGuestType.Pv;
        if (options.Guest is not (LegacyGuestType.Pv or LegacyGuestType.Hvm))
        {
            throw new ArgumentException("the guest type must be PV or HVM", nameof(options));
        }
        if (pv && options.GuestWidth is not (4 or 8))
        {
            throw new ArgumentException("a PV guest width is 4 or 8", nameof(options));
        }
        using var w = new LegacyStreamWriter(output, options.Width, leaveOpen: true);
        var g = new Generator(options, w);
        g.Run();
        w.Flush();
    }

    private sealed class Generator(LegacySyntheticOptions o, LegacyStreamWriter w)
    {
        private readonly bool _pv = o.Guest == LegacyGuestType.Pv;
        private readonly byte[] _pages = new byte[LegacyWire.MaxBatch * LegacyLayout.PageSize];
        private readonly ulong[] _words = new ulong[LegacyWire.MaxBatch];
        private readonly Dictionary<ulong, int> _versions = [];
        private readonly Dictionary<ulong, byte[]> _senderCache = [];
        private ulong _rng = o.Seed * 0x9E37_79B9_7F4A_7C15ul + 0x1234_5678ul;

        private ulong P2mSize => (ulong)o.Pages + 16;

        public void Run()
        {
            w.WriteHeader(P2mSize);
            if (_pv)
            {
                var basic = o.GuestWidth == 8 ? (int)LegacyWire.VcpuBlockSize64 : (int)LegacyWire.VcpuBlockSize32;
                w.WritePvExtendedInfo(Blob(basic, 1), o.ExtendedVcpuContext, o.XsaveSize > 0 ? (uint)(o.XsaveSize + LegacyLayout.XsaveHeaderSize) : 0);
                var fpp = (ulong)(LegacyLayout.PageSize / o.GuestWidth);
                var frames = ((P2mSize - 1) / fpp) + 1;
                for (ulong i = 0; i < frames; i++)
                {
                    w.WriteUlong(0x1000 + (Next() & 0xFFFFF));
                }
            }
            FirstBody();
            Tail(0);
            for (var k = 1; k <= o.Checkpoints; k++)
            {
                CheckpointBody(k);
                Tail(k);
            }
        }

        private void FirstBody()
        {
            var half = o.Pages / 2;
            WritePages(0, half);
            if (o.TscInfo)
            {
                w.WriteTscInfo(new LegacyTscInfo((uint)(Next() % 4), Next() & 0xFFFF_FFFF_FFFF, 1_000_000 + (uint)(Next() % 3_000_000), (uint)(Next() % 7)));
            }
            WritePages(half, o.Pages - half);
            if (o.VerifyMode)
            {
                w.WriteMarkerChunk(LegacyChunkId.EnableVerifyMode);
                WritePages(0, Math.Min(4, o.Pages));
            }
            Metadata(o.Checkpoints == 0 && o.LastCheckpoint);
            if (o.Compression)
            {
                w.WriteMarkerChunk(LegacyChunkId.EnableCompression);
            }
            w.WriteEndOfBody();
        }

        private void Metadata(bool lastCheckpoint)
        {
            if (o.VcpuInfo)
            {
                Span<int> online = o.Vcpus <= 256 ? stackalloc int[o.Vcpus] : new int[o.Vcpus];
                for (var i = 0; i < online.Length; i++)
                {
                    online[i] = i;
                }
                w.WriteVcpuInfo(online);
            }
            if (!_pv && o.HvmParamChunks)
            {
                foreach (var id in HvmParamChunkIds)
                {
                    w.WriteHvmParamChunk(id, 0xFE000 + (Next() & 0xFFF));
                }
            }
            if (o.Toolstack)
            {
                w.WriteToolstack(PhysmapBlob());
            }
            if (lastCheckpoint)
            {
                w.WriteMarkerChunk(LegacyChunkId.LastCheckpoint);
            }
        }

        private static readonly LegacyChunkId[] HvmParamChunkIds =
        [
            LegacyChunkId.HvmGenerationIdAddr, LegacyChunkId.HvmIdentPt, LegacyChunkId.HvmPagingRingPfn,
            LegacyChunkId.HvmMonitorRingPfn, LegacyChunkId.HvmSharingRingPfn, LegacyChunkId.HvmVm86Tss,
            LegacyChunkId.HvmConsolePfn, LegacyChunkId.HvmAcpiIoportsLocation, LegacyChunkId.HvmViridian,
            LegacyChunkId.HvmIoreqServerPfn, LegacyChunkId.HvmNrIoreqServerPages,
        ];

        /// <summary>Pages [first, first + count) of the image, in batches, with odd words mixed in if asked.</summary>
        private void WritePages(int first, int count)
        {
            var n = 0;
            var data = 0;
            for (var i = 0; i < count; i++)
            {
                var pfn = (ulong)(first + i);
                if (o.OddPages && pfn % 7 == 3 && n < o.BatchSize - 1)
                {
                    // A word without data: XTAB pfn 0 padding, XALLOC or BROKEN beyond the data pfns, or an XTAB.
                    _words[n++] = (Next() % 4) switch
                    {
                        0 => LegacyLayout.XtabPfnZero,
                        1 => LegacyPfn.Make(pfn + 0x200000, 0xE),
                        2 => LegacyPfn.Make(pfn + 0x300000, 0xD),
                        _ => LegacyPfn.Make(pfn + 0x100000, 0xF),
                    };
                }
                var type = 0u;
                if (o.OddPages && pfn % 5 == 1)
                {
                    type = (uint)(1 + (pfn % 4)) | (pfn % 2 == 0 ? 8u : 0u);
                }
                _words[n++] = LegacyPfn.Make(pfn, type);
                Content(pfn, Version(pfn), _pages.AsSpan(data * LegacyLayout.PageSize, LegacyLayout.PageSize));
                data++;
                if (n >= o.BatchSize - 1 || i == count - 1)
                {
                    w.WritePageBatch(_words.AsSpan(0, n), _pages.AsSpan(0, data * LegacyLayout.PageSize));
                    n = 0;
                    data = 0;
                }
            }
        }

        private void CheckpointBody(int k)
        {
            var dirty = Math.Min(o.DirtyPagesPerCheckpoint, o.Pages);
            var start = (int)(Next() % (ulong)o.Pages);
            Span<ulong> pfns = dirty <= 4096 ? stackalloc ulong[dirty] : new ulong[dirty];
            for (var i = 0; i < dirty; i++)
            {
                var pfn = (ulong)((start + (i * 3)) % o.Pages);
                pfns[i] = pfn;
            }
            // Unique pfns per batch: drop repeats (small images wrap around).
            var unique = new HashSet<ulong>();
            var list = new List<ulong>();
            foreach (var p in pfns)
            {
                if (unique.Add(p))
                {
                    list.Add(p);
                }
            }
            foreach (var p in list)
            {
                _versions[p] = Version(p) + 1;
            }
            if (o.TscInfo)
            {
                w.WriteTscInfo(new LegacyTscInfo(0, (ulong)k * 1_000_000_000ul, 2_000_000, (uint)k));
            }
            if (o.Compression)
            {
                CompressedPages(list);
            }
            else
            {
                for (var i = 0; i < list.Count; i += o.BatchSize)
                {
                    var n = Math.Min(o.BatchSize, list.Count - i);
                    for (var j = 0; j < n; j++)
                    {
                        var pfn = list[i + j];
                        _words[j] = LegacyPfn.Make(pfn, PageTypeOf(pfn));
                        Content(pfn, Version(pfn), _pages.AsSpan(j * LegacyLayout.PageSize, LegacyLayout.PageSize));
                    }
                    w.WritePageBatch(_words.AsSpan(0, n), _pages.AsSpan(0, n * LegacyLayout.PageSize));
                }
            }
            Metadata(false);
            w.WriteEndOfBody();
        }

        private uint PageTypeOf(ulong pfn) => o.OddPages && pfn % 5 == 1 ? (uint)(1 + (pfn % 4)) | (pfn % 2 == 0 ? 8u : 0u) : 0u;

        /// <summary>"Format B": the pfn batches, then the encoded pages in two COMPRESSED_DATA chunks.</summary>
        private void CompressedPages(List<ulong> pfns)
        {
            for (var i = 0; i < pfns.Count; i += o.BatchSize)
            {
                var n = Math.Min(o.BatchSize, pfns.Count - i);
                for (var j = 0; j < n; j++)
                {
                    _words[j] = LegacyPfn.Make(pfns[i + j], PageTypeOf(pfns[i + j]));
                }
                w.WritePfnBatch(_words.AsSpan(0, n));
            }
            using var encoded = new MemoryStream();
            var split = -1L;
            var page = new byte[LegacyLayout.PageSize];
            var buffer = new byte[LegacyPageCompression.WorstCaseSize];
            for (var i = 0; i < pfns.Count; i++)
            {
                var pfn = pfns[i];
                Content(pfn, Version(pfn), page);
                var type = PageTypeOf(pfn);
                var raw = (type & 7) is >= 1 and <= 4;
                int length;
                if (!raw && _senderCache.TryGetValue(pfn, out var cached))
                {
                    length = LegacyPageCompression.CompressDelta(page, cached, buffer);
                    page.CopyTo(cached, 0);
                }
                else
                {
                    length = LegacyPageCompression.CompressFull(page, buffer);
                    if (raw)
                    {
                        _senderCache.Remove(pfn);
                    }
                    else
                    {
                        _senderCache[pfn] = (byte[])page.Clone();
                    }
                }
                encoded.Write(buffer, 0, length);
                if (i == (pfns.Count / 2) - 1)
                {
                    split = encoded.Length;
                }
            }
            var all = encoded.ToArray();
            if (split > 0 && split < all.Length)
            {
                w.WriteCompressedData(all.AsSpan(0, (int)split));
                w.WriteCompressedData(all.AsSpan((int)split));
            }
            else
            {
                w.WriteCompressedData(all);
            }
        }

        private void Tail(int checkpoint)
        {
            if (_pv)
            {
                Span<ulong> unmapped = stackalloc ulong[Math.Min(o.UnmappedPfns, 256)];
                for (var i = 0; i < unmapped.Length; i++)
                {
                    unmapped[i] = P2mSize - 1 - ((ulong)i % P2mSize);
                }
                w.WritePvUnmapped(unmapped);
                if (o.VcpuInfo)
                {
                    var basic = o.GuestWidth == 8 ? (int)LegacyWire.VcpuBlockSize64 : (int)LegacyWire.VcpuBlockSize32;
                    for (var v = 0; v < o.Vcpus; v++)
                    {
                        w.WritePvVcpuBasic(Blob(basic, (ulong)(10 + v)));
                        if (o.ExtendedVcpuContext)
                        {
                            w.WritePvVcpuExtended(Blob(LegacyWire.ExtendedVcpuContextSize, (ulong)(20 + v)));
                        }
                        if (o.XsaveSize > 0)
                        {
                            w.WritePvVcpuXsave(0x7, Blob(o.XsaveSize, (ulong)(30 + v)));
                        }
                    }
                }
                w.WriteSharedInfo(Blob(LegacyLayout.SharedInfoSize, 40 + (ulong)checkpoint));
                return;
            }
            w.WriteHvmTail(new LegacyHvmMagicPfns(0xFEFF0, 0xFEFF1, 0xFEFFF), Blob(o.HvmContextSize, 50 + (ulong)checkpoint));
            if (checkpoint > 0)
            {
                w.WriteQemuRecord(LegacyQemuSignature.RemusDeviceModelState, Blob(o.QemuSize, 60 + (ulong)checkpoint));
            }
            else if (o.QemuRecord)
            {
                w.WriteQemuRecord(o.QemuSignature, Blob(o.QemuSize, 60));
            }
        }

        private byte[] PhysmapBlob()
        {
            using var ms = new MemoryStream();
            Span<byte> b = stackalloc byte[LegacyLayout.PhysmapEntryHeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(b, LegacyWire.ToolstackBlobVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)o.PhysmapEntries);
            ms.Write(b[..LegacyLayout.ToolstackBlobHeaderSize]);
            for (var i = 0; i < o.PhysmapEntries; i++)
            {
                var name = Encoding.ASCII.GetBytes(i == 0 ? "vga.vram\0" : $"rom{i}.bin\0");
                BinaryPrimitives.WriteUInt64LittleEndian(b, 0xF000_0000ul + ((ulong)i << 24));
                BinaryPrimitives.WriteUInt64LittleEndian(b[8..], 0xFC00_0000ul + ((ulong)i << 20));
                BinaryPrimitives.WriteUInt64LittleEndian(b[16..], 0x80_0000ul >> i);
                BinaryPrimitives.WriteUInt32LittleEndian(b[24..], (uint)name.Length);
                ms.Write(b);
                ms.Write(name);
                if (o.Width == LegacyWidth.Bits64)
                {
                    // The 64-bit struct padding that leaked after the name.
                    ms.Write([0xAA, 0xBB, 0xCC, 0xDD]);
                }
            }
            return ms.ToArray();
        }

        private int Version(ulong pfn) => _versions.TryGetValue(pfn, out var v) ? v : 0;

        /// <summary>A page's contents at a version: a seeded base, with a few runs of words changed per version.</summary>
        private void Content(ulong pfn, int version, Span<byte> page)
        {
            var s = (o.Seed * 0x2545_F491_4F6C_DD1Dul) ^ (pfn * 0x9E37_79B9_7F4A_7C15ul) ^ 0xD1B5_4A32_D192_ED03ul;
            for (var i = 0; i < page.Length; i += 8)
            {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                BinaryPrimitives.WriteUInt64LittleEndian(page[i..], s);
            }
            for (var v = 1; v <= version; v++)
            {
                var r = (pfn * 31) + (ulong)(v * 977);
                for (var run = 0; run < 3; run++)
                {
                    var at = (int)((r + (ulong)(run * 1301)) % 1000) * 4;
                    for (var k = 0; k < 3 && at + (k * 4) + 4 <= page.Length; k++)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(page[(at + (k * 4))..], (uint)(v * 0x01010101) ^ (uint)pfn);
                    }
                }
            }
        }

        private byte[] Blob(int size, ulong salt)
        {
            var blob = new byte[size];
            var s = (o.Seed + salt) * 0x9E37_79B9_7F4A_7C15ul | 1;
            for (var i = 0; i < size; i++)
            {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                blob[i] = (byte)s;
            }
            return blob;
        }

        private ulong Next()
        {
            _rng += 0x9E37_79B9_7F4A_7C15ul;
            var z = _rng;
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9ul;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBul;
            return z ^ (z >> 31);
        }
    }
}
