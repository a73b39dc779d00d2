using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Engine.Save;

/// <summary>Options of <see cref="LegacySave"/>.</summary>
public sealed record LegacySaveOptions
{
    /// <summary>The toolstack width the image is written for (the size of its <c>unsigned long</c>).</summary>
    public LegacyWidth Width { get; init; } = LegacyWidth.Bits64;

    /// <summary>HVM: write the QEMU record ("DeviceModelRecord0002") after the tail, as libxl ≤ 4.5 did.</summary>
    public bool QemuRecord { get; init; } = true;

    /// <summary>
    /// A legacy Remus image: after the first image, this many checkpoints, each a body of the pages dirtied since the
    /// previous one (TSC_INFO, page batches, VCPU_INFO, the HVM-param chunks, end of body) and the tail again (and the
    /// QEMU record), as xc_domain_save 4.5 looped for Remus. 0: a plain image, whose body carries
    /// XC_SAVE_ID_LAST_CHECKPOINT as every non-checkpointed xc_domain_save since Xen 4.2 sent it.
    /// </summary>
    public int Checkpoints { get; init; }

    /// <summary>With <see cref="Checkpoints"/>: runs the guest before checkpoint k (1..Checkpoints); its writes are logged dirty.</summary>
    public Action<int>? BetweenCheckpoints { get; init; }
}

/// <summary>What <see cref="LegacySave"/> wrote.</summary>
public sealed record LegacySaveResult
{
    /// <summary>Bytes of the image.</summary>
    public long Bytes { get; init; }

    /// <summary>The image's p2m_size.</summary>
    public ulong P2mSize { get; init; }

    /// <summary>Page batches written.</summary>
    public long Batches { get; init; }

    /// <summary>pfn words written.</summary>
    public long Pfns { get; init; }

    /// <summary>Pages of data written.</summary>
    public long DataPages { get; init; }

    /// <summary>Page-table pages written normalised (PV).</summary>
    public long NormalisedPages { get; init; }

    /// <summary>
    /// Domain state the legacy format has no place for, one line per item (PV vCPU MSRs, HVM params that no
    /// XC_SAVE_ID_HVM_* chunk carries). Empty when the image carries everything a v2 stream would.
    /// </summary>
    public IReadOnlyList<string> NotCarried { get; init; } = [];

    /// <summary>Time spent writing.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>The byte offset where each image ends (the first, then each Remus checkpoint): one entry per image.</summary>
    public IReadOnlyList<long> ImageEnds { get; init; } = [];
}

/// <summary>
/// A non-live save of a simulated domain into a legacy (pre-Xen-4.6) libxc image, laid out as Xen 4.5's
/// xc_domain_save wrote it (FORMATS.md 6, docs/LEGACY.md 6) through <see cref="LegacyStreamWriter"/>: p2m_size; for PV
/// the extended info ("vcpu" block of vCPU 0's normalised context, "extv", "xcnt") and the p2m frame list; the body
/// (TSC_INFO, page batches of at most 1024 pfns with the legacy type nibble in bits 28..31, PV page tables normalised
/// mfn → pfn exactly as the v2 save does, VCPU_INFO, the HVM-param chunks, end of body); then the PV tail (unmapped
/// pfns, each online vCPU's basic / extended / xsave context, shared_info) or the HVM tail (magic pfns, HVM context)
/// and the QEMU record. PVH is refused: it did not exist before Xen 4.6.
/// </summary>
public static class LegacySave
{
    /// <summary>
    /// The HVM params the legacy saver sent as XC_SAVE_ID_HVM_* chunks (xc_domain_save.c of Xen 4.5), in its order.
    /// VM86_TSS is read as HVMOP_get_param(HVM_PARAM_VM86_TSS) answers: the low 32 bits of VM86_TSS_SIZED.
    /// </summary>
    private static readonly (LegacyChunkId Chunk, uint Param)[] HvmParamChunks =
    [
        (LegacyChunkId.HvmGenerationIdAddr, HvmParamIndex.VmGenerationIdAddr),
        (LegacyChunkId.HvmIdentPt, HvmParamIndex.IdentPt),
        (LegacyChunkId.HvmPagingRingPfn, HvmParamIndex.PagingRingPfn),
        (LegacyChunkId.HvmMonitorRingPfn, HvmParamIndex.MonitorRingPfn),
        (LegacyChunkId.HvmSharingRingPfn, HvmParamIndex.SharingRingPfn),
        (LegacyChunkId.HvmVm86Tss, HvmParamIndex.Vm86Tss),
        (LegacyChunkId.HvmConsolePfn, HvmParamIndex.ConsolePfn),
        (LegacyChunkId.HvmAcpiIoportsLocation, HvmParamIndex.AcpiIoportsLocation),
        (LegacyChunkId.HvmViridian, HvmParamIndex.Viridian),
        (LegacyChunkId.HvmIoreqServerPfn, HvmParamIndex.IoreqServerPfn),
        (LegacyChunkId.HvmNrIoreqServerPages, HvmParamIndex.NrIoreqServerPages),
    ];

    /// <summary>The VM86 TSS size old hvmloaders hard-code, which Xen assumes for HVM_PARAM_VM86_TSS.</summary>
    public const ulong LegacyVm86TssSize = 128;

    /// <summary>Saves <paramref name="domain"/> (Ready, PV 64/32-bit or HVM) into <paramref name="output"/> (flushed, not closed).</summary>
    public static LegacySaveResult Save(GuestDomain domain, Stream output, LegacySaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new LegacySaveOptions();
        if (domain.Lifecycle != DomainLifecycle.Ready)
        {
            throw new ArgumentException($"only a Ready domain can be saved (this one is {domain.Lifecycle})", nameof(domain));
        }

        if (domain is HvmDomain { IsPvh: true })
        {
            throw new SaveException("a PVH guest cannot be saved in the legacy format: PVH did not exist before Xen 4.6, " +
                "and a legacy image has no way to say a guest is PVH (it would restore as HVM); save it as a v2/v3 stream");
        }

        if (options.Width is not (LegacyWidth.Bits32 or LegacyWidth.Bits64))
        {
            throw new ArgumentException("the legacy toolstack width must be 32 or 64", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(options.Checkpoints);

        long start = Stopwatch.GetTimestamp();
        using var writer = new LegacyStreamWriter(output, options.Width, leaveOpen: true);
        var run = new Run(domain, writer, options);
        run.Write();
        writer.Flush();
        return new LegacySaveResult
        {
            Bytes = writer.Position,
            P2mSize = run.P2mSize,
            Batches = run.Batches,
            Pfns = run.Pfns,
            DataPages = run.DataPages,
            NormalisedPages = run.Normalised,
            NotCarried = run.NotCarried.Distinct(StringComparer.Ordinal).ToList(), // a Remus image names each loss once
            Elapsed = Stopwatch.GetElapsedTime(start),
            ImageEnds = run.ImageEnds,
        };
    }

    /// <summary>Saves into a file (created or truncated).</summary>
    public static LegacySaveResult Save(GuestDomain domain, string path, LegacySaveOptions? options = null)
    {
        using var file = OutputFile.Open(path);
        return Save(domain, file, options);
    }

    private sealed class Run(GuestDomain domain, LegacyStreamWriter w, LegacySaveOptions options)
    {
        private readonly PvDomain? _pv = domain as PvDomain;
        private readonly HvmDomain? _hvm = domain as HvmDomain;
        private readonly ulong[] _words = new ulong[LegacyWire.MaxBatch];
        private readonly ulong[] _batch = new ulong[LegacyWire.MaxBatch];
        private readonly byte[] _pages = new byte[LegacyWire.MaxBatch * LegacyLayout.PageSize];

        public ulong P2mSize { get; private set; }

        public long Batches { get; private set; }

        public long Pfns { get; private set; }

        public long DataPages { get; private set; }

        public long Normalised { get; private set; }

        public List<string> NotCarried { get; } = [];

        public List<long> ImageEnds { get; } = [];

        public void Write()
        {
            WriteFirstImage();
            ImageEnds.Add(w.Position);
            if (options.Checkpoints == 0)
            {
                return;
            }

            // Remus: log the guest's writes between checkpoints and send those pages again (xc_domain_save's
            // "copypages" loop after the checkpoint callback).
            bool wasLogging = domain.DirtyLog.IsEnabled;
            if (!wasLogging)
            {
                domain.DirtyLog.Enable();
            }

            try
            {
                for (int k = 1; k <= options.Checkpoints; k++)
                {
                    options.BetweenCheckpoints?.Invoke(k);
                    WriteCheckpoint(domain.DirtyLog.Clean());
                    ImageEnds.Add(w.Position);
                }
            }
            finally
            {
                if (!wasLogging)
                {
                    domain.DirtyLog.Disable();
                }
            }
        }

        private void WriteCheckpoint(PfnBitmap dirty)
        {
            WriteTsc();
            int count = 0;
            foreach (ulong pfn in dirty.Enumerate())
            {
                if (pfn >= P2mSize)
                {
                    continue;
                }

                _batch[count++] = pfn;
                if (count == _batch.Length)
                {
                    WriteBatch(count);
                    count = 0;
                }
            }

            WriteBatch(count);
            int[] online = domain.OnlineVcpus().ToArray();
            w.WriteVcpuInfo(online);
            if (_hvm is not null)
            {
                WriteHvmParamChunks(_hvm);
            }

            w.WriteEndOfBody();
            WriteTail(online);
        }

        private void WriteTail(int[] online)
        {
            if (_pv is not null)
            {
                WritePvTail(_pv, online);
            }
            else
            {
                WriteHvmTail(_hvm!);
            }
        }

        private void WriteFirstImage()
        {
            P2mSize = _pv is not null ? _pv.P2mSize : _hvm!.MaxPfn + 1;
            if (P2mSize - 1 > LegacyWire.PfnMask)
            {
                throw new SaveException(string.Create(CultureInfo.InvariantCulture,
                    $"the guest's highest pfn 0x{P2mSize - 1:x} does not fit the 28 pfn bits of a legacy pfn word"));
            }

            // The guest's own suspend step (Linux xen_pre_suspend): start_info names pfns again.
            _pv?.NormaliseStartInfo();
            w.WriteHeader(P2mSize);
            if (_pv is not null)
            {
                WritePvHeader(_pv);
            }

            WriteTsc();
            WritePages();
            int[] online = domain.OnlineVcpus().ToArray();
            w.WriteVcpuInfo(online);
            if (_hvm is not null)
            {
                WriteHvmParamChunks(_hvm);
            }

            if (options.Checkpoints == 0)
            {
                w.WriteMarkerChunk(LegacyChunkId.LastCheckpoint); // a plain save: this image is the first and last
            }

            w.WriteEndOfBody();
            WriteTail(online);
        }

        // ---- PV header ---------------------------------------------------------------------------------------------

        private void WritePvHeader(PvDomain pv)
        {
            bool extended = false;
            int xsave = -1;
            foreach (int id in pv.OnlineVcpus())
            {
                PvVcpuState v = pv.GetVcpu(id);
                extended |= v.Extended is { Length: > 0 };
                int length = v.Xsave?.Length ?? 0;
                if (xsave >= 0 && length != xsave)
                {
                    throw new SaveException(string.Create(CultureInfo.InvariantCulture,
                        $"vcpu {id} has {length} bytes of xsave state and an earlier vCPU {xsave}: a legacy image has one xsave size (\"xcnt\") for all vCPUs"));
                }

                xsave = length;
            }

            byte[] vcpu0 = pv.NormaliseVcpuBasic(0);
            uint xcnt = xsave > 0 ? checked((uint)(xsave + LegacyLayout.XsaveHeaderSize)) : 0;
            w.WritePvExtendedInfo(vcpu0, extended, xcnt);

            // The p2m frame list: the pfn of each frame of the guest's p2m, (p2m_size - 1) / fpp + 1 of them.
            ulong fpp = (ulong)(LegacyLayout.PageSize / pv.Geometry.GuestWidth);
            ulong expected = ((P2mSize - 1) / fpp) + 1;
            IReadOnlyList<ulong> frames = pv.P2mFramePfns;
            if ((ulong)frames.Count != expected)
            {
                throw new SaveException(string.Create(CultureInfo.InvariantCulture,
                    $"the guest's p2m has {frames.Count} frames, but a p2m_size of 0x{P2mSize:x} needs {expected}"));
            }

            foreach (ulong pfn in frames)
            {
                w.WriteUlong(pfn);
            }
        }

        // ---- body --------------------------------------------------------------------------------------------------

        private void WriteTsc()
        {
            TscInfo tsc = domain.Tsc;
            w.WriteTscInfo(new LegacyTscInfo(tsc.Mode, tsc.ElapsedNanoseconds, tsc.KHz, tsc.Incarnation));
        }

        private void WritePages()
        {
            int count = 0;
            for (ulong pfn = 0; pfn < P2mSize; pfn++)
            {
                _batch[count++] = pfn;
                if (count == _batch.Length)
                {
                    WriteBatch(count);
                    count = 0;
                }
            }

            WriteBatch(count);
        }

        // One batch: each pfn's type as get_pfn_type_batch reports it (in the legacy word: type << 28 | pfn), then the
        // pages of the words below BROKEN, page tables normalised (canonicalize_pagetable: mfn → pfn).
        private void WriteBatch(int count)
        {
            if (count == 0)
            {
                return;
            }

            int data = 0;
            for (int i = 0; i < count; i++)
            {
                ulong pfn = _batch[i];
                WirePageType type = PageTypes.ToWire(domain.GetPageInfo(pfn));
                _words[i] = LegacyPfn.Make(pfn, (uint)type);
                if (!LegacyPfn.HasData(_words[i]))
                {
                    continue;
                }

                Span<byte> slot = _pages.AsSpan(data * LegacyLayout.PageSize, LegacyLayout.PageSize);
                if (_pv is not null && PageTypes.TableLevel(type) != 0)
                {
                    if (!_pv.TryNormalisePageTable(pfn, slot, out PageTableError? problem))
                    {
                        throw new SaveException($"cannot normalise page table pfn 0x{pfn:x}: {problem!.Message}");
                    }

                    Normalised++;
                }
                else
                {
                    domain.ReadPage(pfn).CopyTo(slot);
                }

                data++;
            }

            w.WritePageBatch(_words.AsSpan(0, count), _pages.AsSpan(0, data * LegacyLayout.PageSize));
            Batches++;
            Pfns += count;
            DataPages += data;
        }

        private void WriteHvmParamChunks(HvmDomain hvm)
        {
            HvmParams p = hvm.Params;
            foreach ((LegacyChunkId chunk, uint param) in HvmParamChunks)
            {
                ulong value = param == HvmParamIndex.Vm86Tss ? (uint)p.Get(HvmParamIndex.Vm86TssSized) : p.Get(param);
                if (value != 0)
                {
                    w.WriteHvmParamChunk(chunk, value);
                }
            }

            // What HVMOP_set_param(VM86_TSS) gives back on restore is a 128-byte TSS; anything else is lost.
            ulong sized = p.Get(HvmParamIndex.Vm86TssSized);
            if (sized != 0 && (sized >> 32) != LegacyVm86TssSize)
            {
                NotCarried.Add(string.Create(CultureInfo.InvariantCulture,
                    $"HVM param VM86_TSS_SIZED 0x{sized:x}: XC_SAVE_ID_HVM_VM86_TSS carries the address only, a restore assumes {LegacyVm86TssSize} bytes"));
            }

            foreach (uint index in HvmParamIndex.SavedByXen)
            {
                bool carried = index is HvmParamIndex.StorePfn or HvmParamIndex.IoreqPfn or HvmParamIndex.BufioreqPfn
                    or HvmParamIndex.Vm86TssSized || Array.Exists(HvmParamChunks, c => c.Param == index);
                if (!carried && p.Get(index) != 0)
                {
                    NotCarried.Add(string.Create(CultureInfo.InvariantCulture,
                        $"HVM param {index} = 0x{p.Get(index):x}: no XC_SAVE_ID_HVM_* chunk carries it"));
                }
            }
        }

        // ---- tails -------------------------------------------------------------------------------------------------

        private void WritePvTail(PvDomain pv, int[] online)
        {
            var unmapped = new List<ulong>();
            for (ulong pfn = 0; pfn < P2mSize; pfn++)
            {
                if (!pv.IsPopulated(pfn))
                {
                    unmapped.Add(pfn);
                }
            }

            w.WritePvUnmapped(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(unmapped));
            bool extended = online.Any(id => pv.GetVcpu(id).Extended is { Length: > 0 });
            Span<byte> ext = stackalloc byte[LegacyWire.ExtendedVcpuContextSize];
            foreach (int id in online)
            {
                PvVcpuState v = pv.GetVcpu(id);
                w.WritePvVcpuBasic(pv.NormaliseVcpuBasic(id));
                if (extended)
                {
                    // xc_domain_save sent the 128-byte domctl union; the context's own size field says how much is state.
                    ext.Clear();
                    v.Extended?.CopyTo(ext);
                    w.WritePvVcpuExtended(ext);
                }

                if (v.Xsave is { Length: > 0 } xsave)
                {
                    w.WritePvVcpuXsave(PlatformDefaults.Xcr0, xsave);
                }

                if (v.Msrs.Count > 0)
                {
                    NotCarried.Add(string.Create(CultureInfo.InvariantCulture,
                        $"vcpu {id}: {v.Msrs.Count} MSR(s) (X86_PV_VCPU_MSRS has no legacy counterpart)"));
                }
            }

            w.WriteSharedInfo(pv.SharedInfo);
        }

        private void WriteHvmTail(HvmDomain hvm)
        {
            HvmParams p = hvm.Params;
            w.WriteHvmTail(new LegacyHvmMagicPfns(p.Get(HvmParamIndex.IoreqPfn), p.Get(HvmParamIndex.BufioreqPfn), p.Get(HvmParamIndex.StorePfn)),
                hvm.GetContextBlob());
            if (options.QemuRecord)
            {
                w.WriteQemuRecord(LegacyQemuSignature.DeviceModelRecord0002, EmulatorState.CreateQemuImage(hvm.MaxVcpus));
            }
        }
    }
}
