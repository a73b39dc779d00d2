using System.Buffers.Binary;
using StreamBench.Domain.Determinism;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.X86;

namespace StreamBench.Domain.Builders;

/// <summary>
/// Builds a PV guest the way xc_dom_x86.c and a running Linux kernel leave it at suspend:
/// RAM populated over scattered machine frames, a direct map of all RAM through a real page-table
/// tree (64-bit: kernel L4 slot 273 → L3 → L2 → L1; 32-bit PAE: L3 → four L2s with Xen's compat
/// slots in the top one), a separate pinned user L4 on 64-bit (cr1), page-table pages mapped
/// read-only, GDT frames per vCPU, start_info naming the xenstore and console rings (as pfns, as
/// the guest leaves them before suspending), shared_info, and the guest's own p2m.
/// </summary>
internal static class PvDomainBuilder
{
    private const ulong FrameTag = 0x4652_414D; // "FRAM"
    private const ulong VcpuTag = 0x5643_5055; // "VCPU"
    private const ulong BalloonTag = 0x4241_4C4C; // "BALL"
    private const int UserPages = 64;
    private const ulong DirectMap64 = 0xFFFF_8880_0000_0000ul;
    private const int DirectMapL4Slot = 273;
    private const ulong DirectMap32 = 0xC000_0000ul;
    private const ulong KernelText64 = 0xFFFF_FFFF_8100_0000ul;
    private const ulong KernelText32 = 0xC100_0000ul;
    private const ulong UpperFlags = PteFormat.Present | PteFormat.Writable | PteFormat.User | PteFormat.Accessed | PteFormat.Dirty;
    private const ulong DataFlags = PteFormat.Present | PteFormat.Writable | PteFormat.Accessed | PteFormat.Dirty | PteFormat.NoExecute;
    private const ulong ReadOnlyFlags = PteFormat.Present | PteFormat.Accessed | PteFormat.NoExecute;
    private const ulong UserFlags = PteFormat.Present | PteFormat.Writable | PteFormat.User | PteFormat.Accessed | PteFormat.Dirty;

    public static PvDomain Build(DomainSpec spec)
    {
        PvGeometry g = spec.Type == GuestType.Pv ? PvGeometry.X86_64 : PvGeometry.X86_32Pae;
        ulong pages = spec.MemoryPages;
        MachineFrameAllocator frames = spec.Host ?? new MachineFrameAllocator(spec.FrameSeed ?? SplitMix64.Derive(spec.Seed, FrameTag));
        var plan = new Plan(g, pages, spec.Vcpus);
        var d = new PvDomain(g, spec.Vcpus, frames, pages + spec.MemoryLimitSlackPages);
        try
        {
            d.ExpandP2m(pages - 1);
            var ballooned = ChooseBallooned(spec, plan);
            for (ulong pfn = 0; pfn < pages; pfn++)
            {
                if (!ballooned.Contains(pfn))
                {
                    d.Populate(pfn);
                }
            }

            foreach ((ulong pfn, PageType type) in plan.PageTables())
            {
                d.SetPageType(pfn, type);
            }

            BuildPageTables(d, plan);
            FillData(d, spec, plan);
            FillGdts(d, plan);
            FillRings(d, plan, spec.Seed);

            if (g.Is64Bit)
            {
                d.Pin(plan.KernelTop);
                d.Pin(plan.UserL4);
            }
            else
            {
                d.Pin(plan.KernelTop);
            }

            for (int i = 0; i < plan.P2mFrames; i++)
            {
                d.SetP2mFramePfn(i, plan.P2mBase + (ulong)i);
            }

            d.WriteGuestP2m();
            WriteStartInfo(d, plan, pages);
            WriteSharedInfo(d, spec);
            for (int v = 0; v < spec.Vcpus; v++)
            {
                BuildVcpu(d, plan, spec.Seed, v);
            }

            d.SetCpuidPolicy(PlatformDefaults.CpuidPolicy(spec.Type));
            d.SetMsrPolicy(PlatformDefaults.MsrPolicy());
            d.Tsc = PlatformDefaults.Tsc(spec.Seed);
            d.Complete();
            return d;
        }
        catch
        {
            d.Discard();
            throw;
        }
    }

    private static HashSet<ulong> ChooseBallooned(DomainSpec spec, Plan plan)
    {
        var set = new HashSet<ulong>();
        ulong first = plan.DataStart + UserPages;
        if (spec.BalloonedPages == 0 || first >= plan.Pages)
        {
            return set;
        }

        var rng = new Xoshiro256StarStar(SplitMix64.Derive(spec.Seed, BalloonTag));
        ulong span = plan.Pages - first;
        int want = (int)Math.Min((ulong)spec.BalloonedPages, span / 2);
        while (set.Count < want)
        {
            set.Add(first + rng.NextBelow(span));
        }

        return set;
    }

    private static void BuildPageTables(PvDomain d, Plan p)
    {
        ulong Mfn(ulong pfn) => d.PfnToMfn(pfn);

        void Map(ulong tablePfn, int index, ulong targetPfn, ulong flags) =>
            PvDomain.WriteEntry(d.GetWritablePage(tablePfn), index, PteFormat.Make(Mfn(targetPfn), flags));

        ulong LeafFlags(ulong pfn) => d.GetPageInfo(pfn).IsPageTable ? ReadOnlyFlags : DataFlags;

        void FillL1(ulong l1Pfn, ulong firstPfn, ulong endPfn)
        {
            Span<byte> table = d.GetWritablePage(l1Pfn);
            for (int e = 0; e < PteFormat.EntriesPerTable && firstPfn + (ulong)e < endPfn; e++)
            {
                ulong pfn = firstPfn + (ulong)e;
                if (d.IsPopulated(pfn))
                {
                    PvDomain.WriteEntry(table, e, PteFormat.Make(Mfn(pfn), LeafFlags(pfn)));
                }
            }
        }

        if (p.Geometry.Is64Bit)
        {
            Map(p.KernelTop, DirectMapL4Slot, p.KernelL3, UpperFlags);
            for (int i = 0; i < p.DirectL2Count; i++)
            {
                Map(p.KernelL3, i, p.L2Base + (ulong)i, UpperFlags);
            }

            for (int k = 0; k < p.DirectL1Count; k++)
            {
                Map(p.L2Base + (ulong)(k / 512), k % 512, p.L1Base + (ulong)k, UpperFlags);
                FillL1(p.L1Base + (ulong)k, (ulong)k * 512, p.Pages);
            }

            Map(p.UserL4, 0, p.UserL3, UpperFlags);
            Map(p.UserL3, 0, p.UserL2, UpperFlags);
        }
        else
        {
            Map(p.KernelTop, 3, p.L2Top, UpperFlags);
            for (int s = 0; s < p.LowL2Count; s++)
            {
                Map(p.KernelTop, s, p.L2LowBase + (ulong)s, UpperFlags);
            }

            for (int j = 0; j < p.LowL1Count; j++)
            {
                Map(p.L2Top, j, p.L1Base + (ulong)j, UpperFlags);
                FillL1(p.L1Base + (ulong)j, (ulong)j * 512, p.LowPages);
            }

            // L3[0..2]: entry 0 of the first L2 maps the user L1; the rest map highmem.
            for (int h = 0; h < p.HighL1Count; h++)
            {
                int r = h + 1;
                Map(p.L2LowBase + (ulong)(r / 512), r % 512, p.L1Base + (ulong)(p.LowL1Count + h), UpperFlags);
                FillL1(p.L1Base + (ulong)(p.LowL1Count + h), p.LowPages + ((ulong)h * 512), p.Pages);
            }
        }

        Map(p.Geometry.Is64Bit ? p.UserL2 : p.L2LowBase, 0, p.UserL1, UpperFlags);
        for (int e = 0; e < UserPages; e++)
        {
            Map(p.UserL1, e, p.DataStart + (ulong)e, UserFlags);
        }
    }

    private static void FillData(PvDomain d, DomainSpec spec, Plan p)
    {
        Span<byte> scratch = stackalloc byte[PageGeometry.Size];
        foreach (ulong pfn in d.PopulatedPfns())
        {
            if (pfn >= Plan.ReservedStart && pfn < p.DataStart)
            {
                continue; // p2m, start_info, rings, GDTs, page tables: built separately.
            }

            if (PageFiller.Fill(scratch, spec.Seed, pfn, spec.ZeroPageFraction))
            {
                d.WritePage(pfn, scratch);
            }
        }
    }

    private static void FillGdts(PvDomain d, Plan p)
    {
        ulong[] descriptors = p.Geometry.Is64Bit
            ? [0, 0x00CF_9B00_0000_FFFF, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x00CF_FB00_0000_FFFF, 0x00CF_F300_0000_FFFF, 0x00AF_FB00_0000_FFFF]
            : [0, 0, 0, 0, 0, 0, 0x00CF_BA00_0000_FFFF, 0x00CF_B200_0000_FFFF, 0x00CF_FA00_0000_FFFF, 0x00CF_F200_0000_FFFF];
        for (int v = 0; v < p.Vcpus; v++)
        {
            Span<byte> gdt = d.GetWritablePage(p.GdtBase + (ulong)v);
            for (int i = 0; i < descriptors.Length; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(gdt[(i * 8)..], descriptors[i]);
            }

            // A per-CPU TSS descriptor, different for each vCPU.
            BinaryPrimitives.WriteUInt64LittleEndian(gdt[(descriptors.Length * 8)..], 0x0000_8900_0000_2067ul | ((ulong)v << 16));
        }
    }

    private static void FillRings(PvDomain d, Plan p, ulong seed)
    {
        // xenstore_domain_interface: req[1024], rsp[1024], req_cons, req_prod, rsp_cons, rsp_prod.
        Span<byte> store = d.GetWritablePage(p.Store);
        ReadOnlySpan<byte> request = "\u0002\0\0\0\u0001\0\0\0\0\0\0\0\u0010\0\0\0/local/domain/7/name\0"u8;
        request.CopyTo(store);
        BinaryPrimitives.WriteUInt32LittleEndian(store[2048..], (uint)request.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(store[2052..], (uint)request.Length);

        // xencons_interface: in[1024], out[2048], in_cons, in_prod, out_cons, out_prod.
        Span<byte> console = d.GetWritablePage(p.Console);
        string log = $"[    0.000000] Linux version 6.1.0-xen (seed {seed:x}) #1 SMP\n[    0.000000] Xen PV guest, {p.Pages} pages\n";
        int n = System.Text.Encoding.ASCII.GetBytes(log, console[1024..3072]);
        BinaryPrimitives.WriteUInt32LittleEndian(console[3080..], (uint)n);
        BinaryPrimitives.WriteUInt32LittleEndian(console[3084..], (uint)n);
    }

    private static void WriteStartInfo(PvDomain d, Plan p, ulong pages)
    {
        StartInfoLayout l = d.StartInfoLayout;
        Span<byte> si = d.GetWritablePage(p.StartInfo);
        System.Text.Encoding.ASCII.GetBytes(l.MagicText, si[StartInfoLayout.Magic..]);
        int w = l.Width;
        PvWords.Write(si, l.NrPages, w, pages);
        PvWords.Write(si, l.SharedInfo, w, d.SharedInfoMfn << PageGeometry.Shift);
        BinaryPrimitives.WriteUInt32LittleEndian(si[l.Flags..], 0);
        // A suspended guest has turned its ring mfns back into pfns (Linux's xen_pre_suspend).
        PvWords.Write(si, l.StoreMfn, w, p.Store);
        BinaryPrimitives.WriteUInt32LittleEndian(si[l.StoreEvtchn..], 1);
        PvWords.Write(si, l.ConsoleMfn, w, p.Console);
        BinaryPrimitives.WriteUInt32LittleEndian(si[l.ConsoleEvtchn..], 2);
        PvWords.Write(si, l.PtBase, w, p.VirtualAddress(p.KernelTop));
        PvWords.Write(si, l.NrPtFrames, w, (ulong)p.PageTableCount);
        PvWords.Write(si, l.MfnList, w, p.VirtualAddress(p.P2mBase));
        System.Text.Encoding.ASCII.GetBytes("root=/dev/xvda1 ro console=hvc0 quiet", si[l.CmdLine..]);
    }

    private static void WriteSharedInfo(PvDomain d, DomainSpec spec)
    {
        SharedInfoLayout l = d.SharedInfoLayout;
        Span<byte> sh = d.SharedInfo;
        sh.Clear();
        var rng = new Xoshiro256StarStar(SplitMix64.Derive(spec.Seed, 0x5348_494E)); // "SHIN"
        for (int v = 0; v < SharedInfoLayout.LegacyMaxVcpus; v++)
        {
            int vi = SharedInfoLayout.VcpuInfo(v);
            sh[vi + SharedInfoLayout.VcpuInfoUpcallMask] = v < spec.Vcpus ? (byte)0 : (byte)1;
            if (v >= spec.Vcpus)
            {
                continue;
            }

            PvWords.Write(sh, vi + (2 * l.Width), l.Width, rng.NextUInt64() & 0xFFFF_F000); // arch.cr2
            int t = SharedInfoLayout.VcpuInfoTime(v);
            BinaryPrimitives.WriteUInt32LittleEndian(sh[t..], 2 * (uint)(1 + rng.NextInt(1000))); // version (even: stable)
            BinaryPrimitives.WriteUInt64LittleEndian(sh[(t + 8)..], rng.NextUInt64() >> 8); // tsc_timestamp
            BinaryPrimitives.WriteUInt64LittleEndian(sh[(t + 16)..], rng.NextUInt64() >> 20); // system_time
            BinaryPrimitives.WriteUInt32LittleEndian(sh[(t + 24)..], 0xD555_5555); // tsc_to_system_mul
            sh[t + 28] = unchecked((byte)(sbyte)-1); // tsc_shift
        }

        sh.Slice(l.EvtchnMask, l.EvtchnBitmapBytes).Fill(0xFF);
        sh[l.EvtchnMask] = 0; // channels 0..7 unmasked
        sh[l.EvtchnPending] = 0x04; // one pending event (a restore clears it)
        BinaryPrimitives.WriteUInt32LittleEndian(sh[l.WcVersion..], 2);
        BinaryPrimitives.WriteUInt32LittleEndian(sh[l.WcSec..], 1_700_000_000u + (uint)(spec.Seed % 100_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(sh[l.WcNsec..], (uint)rng.NextInt(1_000_000_000));
        d.SharedInfoMaxPfnField = d.MaxPfn + 1;
    }

    private static void BuildVcpu(PvDomain d, Plan p, ulong seed, int id)
    {
        var rng = new Xoshiro256StarStar(SplitMix64.Derive(seed, VcpuTag, (ulong)id));
        PvVcpuState v = d.GetVcpu(id);
        VcpuGuestContextLayout l = v.Layout;
        var blob = new byte[l.Size];
        var ctx = new PvVcpuContext(blob, l);
        bool is64 = p.Geometry.Is64Bit;

        // FXSAVE image: fcw, mxcsr, some register contents.
        BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(l.FpuContext), 0x037F);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(l.FpuContext + 24), 0x1F80);
        rng.NextBytes(blob.AsSpan(l.FpuContext + 160, 256));

        ctx.Flags = VcpuGuestContextLayout.FlagI387Valid | VcpuGuestContextLayout.FlagInKernel | VcpuGuestContextLayout.FlagOnline;
        foreach (int reg in (ReadOnlySpan<int>)[l.Rax, l.Rbx, l.Rcx, l.Rsi, l.Rdi, l.Rbp])
        {
            ctx.SetWord(reg, is64 ? rng.NextUInt64() : rng.NextUInt32());
        }

        ulong text = is64 ? KernelText64 : KernelText32;
        ulong stack = p.VirtualAddress(p.DataStart + UserPages + (ulong)id) + 0xF00;
        ctx.InstructionPointer = text + (rng.NextBelow(0x80_0000) & ~0xFul);
        ctx.StackPointer = stack;
        ctx.FlagsRegister = 0x246;
        ushort cs = is64 ? (ushort)0xE033 : (ushort)0xE019;
        ushort ss = is64 ? (ushort)0xE02B : (ushort)0xE021;
        BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(l.Cs), cs);
        BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(l.Ss), ss);
        if (!is64)
        {
            foreach (int seg in (ReadOnlySpan<int>)[l.Ds, l.Es])
            {
                BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(seg), 0xE021);
            }

            BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(l.Fs), 0x00D8);
        }

        // The suspend record: vcpu0's edx holds start_info's mfn; other vCPUs hold anything.
        ctx.SuspendRecord = id == 0 ? d.PfnToMfn(p.StartInfo) : (is64 ? rng.NextUInt64() : rng.NextUInt32());

        for (int i = 0; i < 32; i++)
        {
            int at = l.TrapContext + (i * l.TrapEntrySize);
            blob[at] = (byte)i;
            blob[at + 1] = (byte)(i is 3 or 4 ? 3 : 0);
            BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(at + 2), cs);
            l.WriteWord(blob, at + (is64 ? 8 : 4), text + 0x1000 + ((ulong)i * 0x40));
        }

        ctx.GdtEntries = is64 ? 16ul : 32ul;
        ctx.SetGdtFrame(0, d.PfnToMfn(p.GdtBase + (ulong)id));
        ctx.KernelSs = ss;
        ctx.KernelSp = stack + 0x100;
        ctx.SetControlRegister(0, 0x8005_003B);
        ctx.Cr3 = p.Geometry.FrameToCr3(d.PfnToMfn(p.KernelTop));
        ctx.SetControlRegister(4, 0x0000_2660);
        if (is64)
        {
            ctx.Cr1 = d.PfnToMfn(p.UserL4) << PageGeometry.Shift;
        }

        ctx.SetWord(l.DebugRegister(6), 0xFFFF_0FF0);
        ctx.SetWord(l.DebugRegister(7), 0x0000_0400);
        ctx.SetWord(l.EventCallbackEip, text + 0x2000);
        ctx.SetWord(l.FailsafeCallbackEip, text + 0x2100);
        if (is64)
        {
            ctx.SetWord(l.SyscallCallbackEip, text + 0x2200);
            BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(l.GsBaseKernel), DirectMap64 + 0x4000_0000ul + ((ulong)id << 16));
            ctx.SetWord(l.VmAssist, 1ul << 2);
        }
        else
        {
            ctx.SetWord(l.EventCallbackCs, cs);
            ctx.SetWord(l.FailsafeCallbackCs, cs);
            ctx.SetWord(l.VmAssist, (1ul << 2) | (1ul << 3));
        }

        v.Basic = blob;
        v.Online = true;

        // Extended context (xen_domctl_ext_vcpucontext, 64 bytes with the vMCE state).
        var ext = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(ext, (uint)id);
        BinaryPrimitives.WriteUInt32LittleEndian(ext.AsSpan(4), 64);
        BinaryPrimitives.WriteUInt64LittleEndian(ext.AsSpan(8), text + 0x3000);
        BinaryPrimitives.WriteUInt64LittleEndian(ext.AsSpan(16), text + 0x3100);
        BinaryPrimitives.WriteUInt16LittleEndian(ext.AsSpan(24), cs);
        BinaryPrimitives.WriteUInt16LittleEndian(ext.AsSpan(26), cs);
        BinaryPrimitives.WriteUInt64LittleEndian(ext.AsSpan(32), 0x0000_0000_0100_0802); // vmce caps
        v.Extended = ext;

        // XSAVE: x87 | SSE | AVX.
        var area = new byte[PlatformDefaults.XsaveAreaSize];
        BinaryPrimitives.WriteUInt16LittleEndian(area, 0x037F);
        BinaryPrimitives.WriteUInt32LittleEndian(area.AsSpan(24), 0x1F80);
        rng.NextBytes(area.AsSpan(160, 256));
        BinaryPrimitives.WriteUInt64LittleEndian(area.AsSpan(512), PlatformDefaults.Xcr0);
        rng.NextBytes(area.AsSpan(576, 256));
        v.Xsave = PvVcpuState.ComposeXsave(PlatformDefaults.Xcr0, PlatformDefaults.Xcr0, area);

        // Xen only reports MSRs with non-zero values; TSC_AUX holds the vCPU id (none for vcpu0).
        v.Msrs.Clear();
        if (id != 0)
        {
            v.Msrs.Add(new VcpuMsr(0xC000_0103, (ulong)id));
        }
    }

    /// <summary>Where everything goes, in pfns.</summary>
    private sealed class Plan
    {
        public Plan(PvGeometry geometry, ulong pages, int vcpus)
        {
            Geometry = geometry;
            Pages = pages;
            Vcpus = vcpus;
            ulong next = ReservedStart;
            P2mBase = next;
            P2mFrames = (int)((pages + (ulong)geometry.FramesPerPage - 1) / (ulong)geometry.FramesPerPage);
            next += (ulong)P2mFrames;
            StartInfo = next++;
            Store = next++;
            Console = next++;
            GdtBase = next;
            next += (ulong)vcpus;
            ulong ptStart = next;
            if (geometry.Is64Bit)
            {
                KernelTop = next++;
                UserL4 = next++;
                KernelL3 = next++;
                UserL3 = next++;
                UserL2 = next++;
                UserL1 = next++;
                DirectL1Count = (int)((pages + 511) / 512);
                DirectL2Count = (DirectL1Count + 511) / 512;
                L2Base = next;
                next += (ulong)DirectL2Count;
                L1Base = next;
                next += (ulong)DirectL1Count;
            }
            else
            {
                KernelTop = next++;
                L2Top = next++;
                UserL1 = next++;
                LowPages = Math.Min(pages, (ulong)PvDomain.XenPaeL2FirstSlot * 512);
                LowL1Count = (int)((LowPages + 511) / 512);
                HighL1Count = (int)((pages - LowPages + 511) / 512);
                LowL2Count = (1 + HighL1Count + 511) / 512;
                L2LowBase = next;
                next += (ulong)LowL2Count;
                L1Base = next;
                next += (ulong)(LowL1Count + HighL1Count);
            }

            PageTableCount = (int)(next - ptStart);
            DataStart = next;
            if (DataStart + UserPages + (ulong)vcpus + 1 >= pages)
            {
                throw new ArgumentException($"{pages} pages are too few for the guest's structures ({DataStart} pages before data)");
            }
        }

        public const ulong ReservedStart = 16;

        public PvGeometry Geometry { get; }
        public ulong Pages { get; }
        public int Vcpus { get; }
        public ulong P2mBase { get; }
        public int P2mFrames { get; }
        public ulong StartInfo { get; }
        public ulong Store { get; }
        public ulong Console { get; }
        public ulong GdtBase { get; }
        public ulong KernelTop { get; }
        public ulong UserL4 { get; }
        public ulong KernelL3 { get; }
        public ulong UserL3 { get; }
        public ulong UserL2 { get; }
        public ulong UserL1 { get; }
        public ulong L2Top { get; }
        public ulong L2LowBase { get; }
        public ulong L2Base { get; }
        public ulong L1Base { get; }
        public int DirectL1Count { get; }
        public int DirectL2Count { get; }
        public ulong LowPages { get; }
        public int LowL1Count { get; }
        public int HighL1Count { get; }
        public int LowL2Count { get; }
        public int PageTableCount { get; }
        public ulong DataStart { get; }

        public ulong VirtualAddress(ulong pfn) =>
            Geometry.Is64Bit ? DirectMap64 + (pfn << PageGeometry.Shift) : DirectMap32 + (pfn << PageGeometry.Shift);

        public IEnumerable<(ulong Pfn, PageType Type)> PageTables()
        {
            if (Geometry.Is64Bit)
            {
                yield return (KernelTop, PageType.L4Table);
                yield return (UserL4, PageType.L4Table);
                yield return (KernelL3, PageType.L3Table);
                yield return (UserL3, PageType.L3Table);
                yield return (UserL2, PageType.L2Table);
                yield return (UserL1, PageType.L1Table);
                for (int i = 0; i < DirectL2Count; i++)
                {
                    yield return (L2Base + (ulong)i, PageType.L2Table);
                }

                for (int i = 0; i < DirectL1Count; i++)
                {
                    yield return (L1Base + (ulong)i, PageType.L1Table);
                }
            }
            else
            {
                yield return (KernelTop, PageType.L3Table);
                yield return (L2Top, PageType.L2Table);
                yield return (UserL1, PageType.L1Table);
                for (int i = 0; i < LowL2Count; i++)
                {
                    yield return (L2LowBase + (ulong)i, PageType.L2Table);
                }

                for (int i = 0; i < LowL1Count + HighL1Count; i++)
                {
                    yield return (L1Base + (ulong)i, PageType.L1Table);
                }
            }
        }
    }
}
