using System.Buffers.Binary;
using StreamBench.Domain.Determinism;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Hvm.Context;
using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Builders;

/// <summary>
/// Builds HVM and PVH guests as libxl/libxc and hvmloader leave them (xg_dom_x86.c meminit_hvm,
/// alloc_magic_pages_hvm, vcpu_hvm): RAM below the MMIO hole and above 4 GiB, the VGA hole for
/// HVM, the 8 special pages (plus 8 ioreq-server pages for HVM) cleared, the identity-map page
/// table, the HVM params the saver migrates, and an HVM context with Xen's real record sizes.
/// PVH has no emulated PIC/IOAPIC/PIT/RTC/HPET/PM timer and no ioreq-server pages.
/// </summary>
internal static class HvmDomainBuilder
{
    private const ulong VcpuTag = 0x4856_4350; // "HVCP"
    private const ulong PlatformTag = 0x504C_4154; // "PLAT"
    private const ulong KernelText = 0xFFFF_FFFF_8100_0000ul;
    private const ulong DirectMap = 0xFFFF_8880_0000_0000ul;

    public static HvmDomain Build(DomainSpec spec)
    {
        bool pvh = spec.Type == GuestType.Pvh;
        HvmMemoryLayout layout = HvmMemoryLayout.ForMemory(spec.MemoryPages, vgaHole: !pvh);
        ulong populate = layout.RamPages + HvmMemoryLayout.SpecialPageCount + (pvh ? 0u : HvmMemoryLayout.IoreqServerPageCount);
        var d = new HvmDomain(pvh, spec.Vcpus, layout, populate + spec.MemoryLimitSlackPages);
        try
        {
            Span<byte> scratch = stackalloc byte[PageGeometry.Size];
            foreach (ulong pfn in layout.RamPfns())
            {
                d.Populate(pfn);
                if (PageFiller.Fill(scratch, spec.Seed, pfn, spec.ZeroPageFraction))
                {
                    d.WritePage(pfn, scratch);
                }
            }

            // Special pages are populated and cleared; the ident-PT page holds 4 MiB PSE entries.
            for (int i = 0; i < HvmMemoryLayout.SpecialPageCount; i++)
            {
                d.Populate(HvmMemoryLayout.SpecialPfn(i));
            }

            Span<byte> identPt = d.GetWritablePage(HvmMemoryLayout.SpecialPfn(SpecialPage.IdentPt));
            for (int i = 0; i < PageGeometry.Size / 4; i++)
            {
                const uint flags = 0x01 | 0x02 | 0x04 | 0x20 | 0x40 | 0x80; // P RW US A D PSE
                BinaryPrimitives.WriteUInt32LittleEndian(identPt[(i * 4)..], ((uint)i << 22) | flags);
            }

            if (!pvh)
            {
                for (int i = 0; i < HvmMemoryLayout.IoreqServerPageCount; i++)
                {
                    d.Populate(HvmMemoryLayout.IoreqServerPfn(i));
                }
            }

            SetParams(d, pvh);
            d.Tsc = PlatformDefaults.Tsc(spec.Seed);
            d.Context = BuildContext(spec, layout, pvh, d.Tsc.KHz);
            d.SetCpuidPolicy(PlatformDefaults.CpuidPolicy(spec.Type));
            d.SetMsrPolicy(PlatformDefaults.MsrPolicy());
            d.Complete();
            return d;
        }
        catch
        {
            d.Discard();
            throw;
        }
    }

    private static void SetParams(HvmDomain d, bool pvh)
    {
        HvmParams p = d.Params;
        p.Set(HvmParamIndex.StorePfn, HvmMemoryLayout.SpecialPfn(SpecialPage.Xenstore));
        p.Set(HvmParamIndex.BufioreqPfn, HvmMemoryLayout.SpecialPfn(SpecialPage.Bufioreq));
        p.Set(HvmParamIndex.IoreqPfn, HvmMemoryLayout.SpecialPfn(SpecialPage.Ioreq));
        p.Set(HvmParamIndex.ConsolePfn, HvmMemoryLayout.SpecialPfn(SpecialPage.Console));
        p.Set(HvmParamIndex.PagingRingPfn, HvmMemoryLayout.SpecialPfn(SpecialPage.Paging));
        p.Set(HvmParamIndex.MonitorRingPfn, HvmMemoryLayout.SpecialPfn(SpecialPage.Access));
        p.Set(HvmParamIndex.SharingRingPfn, HvmMemoryLayout.SpecialPfn(SpecialPage.Sharing));
        p.Set(HvmParamIndex.IdentPt, HvmMemoryLayout.SpecialPfn(SpecialPage.IdentPt) << PageGeometry.Shift);
        if (!pvh)
        {
            p.Set(HvmParamIndex.IoreqServerPfn, HvmMemoryLayout.IoreqServerPfn(0));
            p.Set(HvmParamIndex.NrIoreqServerPages, HvmMemoryLayout.IoreqServerPageCount);
            p.Set(HvmParamIndex.AcpiIoportsLocation, 1); // hvmloader: new PM1a/TMR block location
            p.Set(HvmParamIndex.Vm86TssSized, (0x80ul << 32) | 0xFC00_2000ul); // hvmloader's VM86 TSS (size << 32 | address)
        }
    }

    private static HvmContext BuildContext(DomainSpec spec, HvmMemoryLayout layout, bool pvh, uint tscKHz)
    {
        var ctx = new HvmContext(spec.Vcpus);
        ctx.Header.Changeset = PlatformDefaults.XenChangeset;
        ctx.Header.Cpuid = PlatformDefaults.HostSignature;
        ctx.Header.GtscKhz = tscKHz;

        for (int id = 0; id < spec.Vcpus; id++)
        {
            var rng = new Xoshiro256StarStar(SplitMix64.Derive(spec.Seed, VcpuTag, (ulong)id));
            HvmVcpuContext v = ctx.Vcpus[id];
            v.Cpu = BuildCpu(rng, layout, id);

            v.Lapic = new HvmLapicState
            {
                BaseMsr = 0xFEE0_0000ul | 0x800 | (id == 0 ? 0x100ul : 0),
                Divisor = 1,
            };

            var regs = new HvmLapicRegsState();
            regs.SetRegister(HvmLapicRegsState.ApicId, (uint)(id * 2) << 24);
            regs.SetRegister(HvmLapicRegsState.Version, 0x0005_0014);
            regs.SetRegister(HvmLapicRegsState.SpuriousVector, 0x1FF);
            regs.SetRegister(HvmLapicRegsState.LvtTimer, 0x0004_00EC);
            regs.SetRegister(HvmLapicRegsState.LvtThermal, 0x0001_0000);
            regs.SetRegister(HvmLapicRegsState.LvtPerf, 0x0000_0400);
            regs.SetRegister(HvmLapicRegsState.LvtLint0, id == 0 ? 0x0000_0700u : 0x0001_0700u);
            regs.SetRegister(HvmLapicRegsState.LvtLint1, 0x0000_0400);
            regs.SetRegister(HvmLapicRegsState.LvtError, 0x0000_00FE);
            regs.SetRegister(HvmLapicRegsState.TimerDivide, 0x0000_000B);
            v.LapicRegs = regs;

            var mtrr = new HvmMtrrState { Pat = 0x0007_0406_0007_0406ul, Capabilities = 0x508 };
            if (pvh)
            {
                mtrr.DefaultType = 0x806; // vcpu_hvm: WB | enable
            }
            else
            {
                mtrr.DefaultType = 0xC06; // hvmloader: WB | fixed enable | enable
                for (int i = 0; i < HvmMtrrState.FixedCount; i++)
                {
                    mtrr.SetFixed(i, i is 3 or 4 ? 0ul : 0x0606_0606_0606_0606ul); // VGA window UC
                }

                mtrr.SetVariable(0, (layout.MmioHoleStartPfn << PageGeometry.Shift) | 0); // PCI hole UC
                ulong holeBytes = (HvmMemoryLayout.FourGiBPfn - layout.MmioHoleStartPfn) << PageGeometry.Shift;
                mtrr.SetVariable(1, ((1ul << 36) - holeBytes) | 0x800); // mask (36-bit physical) | valid
            }

            v.Mtrr = mtrr;

            if (spec.HvmXsave)
            {
                var xs = new HvmCpuXsaveState(PlatformDefaults.XsaveAreaSize)
                {
                    FeatureMask = PlatformDefaults.Xcr0,
                    Xcr0Value = PlatformDefaults.Xcr0,
                    Xcr0AccumValue = PlatformDefaults.Xcr0,
                };
                Span<byte> area = xs.Area;
                BinaryPrimitives.WriteUInt16LittleEndian(area, 0x037F);
                BinaryPrimitives.WriteUInt32LittleEndian(area[24..], 0x1F80);
                rng.NextBytes(area.Slice(160, 256));
                BinaryPrimitives.WriteUInt64LittleEndian(area[512..], PlatformDefaults.Xcr0);
                rng.NextBytes(area.Slice(576, 256));
                v.Xsave = xs;
            }

            v.Vmce = new HvmVmceVcpuState { Capabilities = 0x0100_0802 };
            v.TscAdjust = new HvmTscAdjustState();
        }

        var prng = new Xoshiro256StarStar(SplitMix64.Derive(spec.Seed, PlatformTag));
        ctx.PciIrq = new HvmPciIrqState();
        ctx.IsaIrq = new HvmIsaIrqState();
        ctx.PciLink = new HvmPciLinkState();
        if (pvh)
        {
            return ctx;
        }

        ctx.PciLink[0] = 5;
        ctx.PciLink[1] = 10;
        ctx.PciLink[2] = 11;
        ctx.PciLink[3] = 5;
        ctx.MasterPic = new HvmPicState { MaskRegister = 0xB8, VectorBase = 0x30, Mode = HvmPicState.IsMasterBit };
        ctx.SlavePic = new HvmPicState { MaskRegister = 0xAE, VectorBase = 0x38, EdgeLevel = 0x0C };

        var ioapic = new HvmIoApicState { Base = 0xFEC0_0000, RegisterSelect = 0x10, ApicId = 1 };
        for (int pin = 0; pin < HvmIoApicState.Pins; pin++)
        {
            ulong entry = HvmIoApicState.MaskBit;
            if (pin is 1 or 4 or 8 or 9 or 12)
            {
                entry = 0x30ul + (ulong)pin; // unmasked, fixed delivery, edge, dest 0
            }
            else if (pin >= 16)
            {
                entry |= (1ul << 15) | (1ul << 13); // level, active low
            }

            ioapic.SetRedirection(pin, entry);
        }

        ctx.IoApic = ioapic;

        var pit = new HvmPitState();
        for (int ch = 0; ch < 3; ch++)
        {
            Span<byte> c = pit.Channel(ch);
            pit.SetCount(ch, ch == 1 ? 0x12u : 0x10000u);
            c[HvmPitState.RwMode] = 3;
            c[HvmPitState.ChannelMode] = ch == 2 ? (byte)0 : (byte)2;
            c[HvmPitState.Gate] = ch == 2 ? (byte)0 : (byte)1;
        }

        ctx.Pit = pit;

        var rtc = new HvmRtcState { Index = 0x0F };
        Span<byte> cmos = rtc.Cmos;
        for (int i = 0; i < 10; i++)
        {
            cmos[i] = (byte)(prng.NextInt(6) * 16 + prng.NextInt(10)); // BCD-ish time and date
        }

        cmos[10] = 0x26;
        cmos[11] = 0x02;
        cmos[13] = 0x80;
        ctx.Rtc = rtc;

        var hpet = new HvmHpetState { Capabilities = 0x0429_B17F_8086_A201ul, Configuration = 0x3, Counter = prng.NextUInt64() >> 16 };
        for (int t = 0; t < HvmHpetState.TimerCount; t++)
        {
            hpet.SetTimerConfig(t, 0x00F0_0000_0000_0030ul | (t == 0 ? 0x4ul : 0));
            hpet.SetTimerComparator(t, ulong.MaxValue);
        }

        ctx.Hpet = hpet;
        ctx.PmTimer = new HvmPmTimerState { TimerValue = prng.NextUInt32() & 0x00FF_FFFF, Enable = 0x0100 };
        return ctx;
    }

    private static HvmCpuState BuildCpu(Xoshiro256StarStar rng, HvmMemoryLayout layout, int id)
    {
        var cpu = new HvmCpuState();
        Span<byte> fpu = cpu.FpuImage;
        BinaryPrimitives.WriteUInt16LittleEndian(fpu, 0x037F);
        BinaryPrimitives.WriteUInt32LittleEndian(fpu[24..], 0x1F80);
        rng.NextBytes(fpu.Slice(160, 256));
        for (int off = HvmCpuState.Rax; off <= HvmCpuState.R15; off += 8)
        {
            cpu.Set(off, rng.NextUInt64());
        }

        cpu.InstructionPointer = KernelText + (rng.NextBelow(0x80_0000) & ~0xFul);
        cpu.StackPointer = DirectMap + 0x4000_0000ul + ((ulong)id << 14) + 0x3F00;
        cpu.FlagsRegister = 0x246;
        cpu.ControlRegister0 = 0x8005_0033;
        cpu.Set(HvmCpuState.Cr2, DirectMap + (rng.NextBelow(layout.LowMemEndPfn) << PageGeometry.Shift));
        cpu.ControlRegister3 = (0x1000 + rng.NextBelow(Math.Max(1, layout.LowMemEndPfn - 0x1000))) << PageGeometry.Shift;
        cpu.ControlRegister4 = 0x0036_06F0;
        cpu.Set(HvmCpuState.Dr6, 0xFFFF_0FF0);
        cpu.Set(HvmCpuState.Dr7, 0x0000_0400);

        cpu.SetSelector(HvmSegment.Cs, 0x10);
        cpu.SetLimit(HvmSegment.Cs, 0xFFFF_FFFF);
        cpu.SetAttributes(HvmSegment.Cs, 0xA09B);
        foreach (HvmSegment s in (ReadOnlySpan<HvmSegment>)[HvmSegment.Ds, HvmSegment.Es, HvmSegment.Ss])
        {
            cpu.SetSelector(s, 0x18);
            cpu.SetLimit(s, 0xFFFF_FFFF);
            cpu.SetAttributes(s, 0xC093);
        }

        cpu.SetAttributes(HvmSegment.Fs, 0x1_C000);
        cpu.SetAttributes(HvmSegment.Gs, 0x1_C000);
        cpu.SetBase(HvmSegment.Gs, DirectMap + 0x4000_0000ul + ((ulong)id << 16));
        cpu.SetSelector(HvmSegment.Tr, 0x40);
        cpu.SetLimit(HvmSegment.Tr, 0x206F);
        cpu.SetBase(HvmSegment.Tr, 0xFFFF_FE00_0000_3000ul + ((ulong)id << 16));
        cpu.SetAttributes(HvmSegment.Tr, 0x8B);
        cpu.SetAttributes(HvmSegment.Ldtr, 0x1_0082);
        cpu.Set(HvmCpuState.IdtrBase, 0xFFFF_FE00_0000_0000ul);
        cpu.Set(HvmCpuState.GdtrBase, 0xFFFF_FE00_0000_1000ul + ((ulong)id << 16));
        BinaryPrimitives.WriteUInt32LittleEndian(cpu.Data[HvmCpuState.IdtrLimit..], 0xFFF);
        BinaryPrimitives.WriteUInt32LittleEndian(cpu.Data[HvmCpuState.GdtrLimit..], 0x7F);

        cpu.Set(HvmCpuState.SysenterCs, 0x10);
        cpu.Set(HvmCpuState.SysenterEip, KernelText + 0x1600);
        cpu.Set(HvmCpuState.MsrLstar, KernelText + 0x1400);
        cpu.Set(HvmCpuState.MsrStar, 0x0023_0010_0000_0000ul);
        cpu.Set(HvmCpuState.MsrCstar, KernelText + 0x1500);
        cpu.Set(HvmCpuState.MsrSyscallMask, 0x4_7700);
        cpu.Efer = 0xD01;
        cpu.Set(HvmCpuState.MsrTscAux, (ulong)id);
        cpu.TimeStampCounter = 0x10_0000_0000ul + (rng.NextUInt64() >> 24);
        cpu.CpuFlags = HvmCpuState.FpuInitialised;
        return cpu;
    }

    /// <summary>SPECIALPAGE_* indices (xg_dom_x86.c).</summary>
    private static class SpecialPage
    {
        public const int Paging = 0, Access = 1, Sharing = 2, Bufioreq = 3, Xenstore = 4, Ioreq = 5, IdentPt = 6, Console = 7;
    }
}
