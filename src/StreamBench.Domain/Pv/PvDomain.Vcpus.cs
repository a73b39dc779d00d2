using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Pv;

public sealed partial class PvDomain
{
    /// <summary>vCPU <paramref name="vcpu"/>'s state (mutable).</summary>
    public PvVcpuState GetVcpu(int vcpu)
    {
        RequireVcpu(vcpu);
        return _vcpus[vcpu];
    }

    /// <inheritdoc/>
    public override bool IsVcpuOnline(int vcpu) => (uint)vcpu < (uint)MaxVcpus && _vcpus[vcpu].Online;

    /// <summary>Brings a vCPU up or down.</summary>
    public void SetVcpuOnline(int vcpu, bool online)
    {
        RequireVcpu(vcpu);
        _vcpus[vcpu].Online = online;
    }

    /// <summary>
    /// The vCPU's basic context normalised for the stream (write_one_vcpu_basic): on vcpu0 the
    /// suspend record (start_info mfn in edx) becomes a pfn; the GDT frames, cr3 and (64-bit)
    /// cr1 become pfns. Throws <see cref="DomainException"/> naming the bad field.
    /// </summary>
    public byte[] NormaliseVcpuBasic(int vcpu)
    {
        var blob = new byte[Geometry.Is64Bit ? VcpuGuestContextLayout.X86_64.Size : VcpuGuestContextLayout.X86_32.Size];
        NormaliseVcpuBasic(vcpu, blob);
        return blob;
    }

    /// <summary>As <see cref="NormaliseVcpuBasic(int)"/>, into a caller's buffer of the context size.</summary>
    public void NormaliseVcpuBasic(int vcpu, Span<byte> destination)
    {
        if (!TryNormaliseVcpuBasic(vcpu, destination, lenient: false, out string? error))
        {
            throw new DomainException(error!);
        }
    }

    internal bool TryNormaliseVcpuBasic(int vcpu, Span<byte> destination, bool lenient, out string? error)
    {
        ThrowIfDiscarded();
        RequireVcpu(vcpu);
        error = null;
        PvVcpuState state = _vcpus[vcpu];
        byte[] basic = state.Basic ?? throw new DomainException($"vcpu{vcpu} has no basic context");
        VcpuGuestContextLayout layout = state.Layout;
        if (destination.Length != layout.Size)
        {
            throw new ArgumentException($"destination must be {layout.Size} bytes", nameof(destination));
        }

        basic.CopyTo(destination);

        bool Convert(ulong mfn, string what, out ulong pfn, out string? problem)
        {
            if (MfnInPseudophysmap(mfn))
            {
                pfn = _m2p[mfn];
                problem = null;
                return true;
            }

            pfn = lenient ? UnknownFrameSentinel : PageGeometry.InvalidFrame;
            problem = $"Bad mfn for {what}: mfn 0x{mfn:x} is not in the pseudophysmap";
            return lenient;
        }

        if (vcpu == 0)
        {
            if (!Convert(layout.ReadWord(destination, layout.Rdx), "suspend record", out ulong pfn, out error))
            {
                return false;
            }

            layout.WriteWord(destination, layout.Rdx, pfn);
        }

        ulong gdtEnts = layout.ReadWord(destination, layout.GdtEntries);
        if (gdtEnts > VcpuGuestContextLayout.FirstReservedGdtEntry)
        {
            error = $"GDT entry count ({gdtEnts}) out of range (max {VcpuGuestContextLayout.FirstReservedGdtEntry})";
            if (!lenient)
            {
                return false;
            }

            gdtEnts = 0;
        }

        int gdtFrames = (int)((gdtEnts + 511) / 512);
        for (int i = 0; i < gdtFrames; i++)
        {
            if (!Convert(layout.ReadWord(destination, layout.GdtFrame(i)), $"frame {i} of vcpu{vcpu}'s GDT", out ulong pfn, out error))
            {
                return false;
            }

            layout.WriteWord(destination, layout.GdtFrame(i), pfn);
        }

        ulong cr3 = layout.ReadWord(destination, layout.ControlRegister(3));
        if (!Convert(Geometry.Cr3ToFrame(cr3), $"vcpu{vcpu}'s cr3", out ulong cr3Pfn, out error))
        {
            return false;
        }

        layout.WriteWord(destination, layout.ControlRegister(3), Geometry.FrameToCr3(cr3Pfn));

        if (Geometry.PageTableLevels == 4)
        {
            ulong cr1 = layout.ReadWord(destination, layout.ControlRegister(1));
            if (cr1 != 0)
            {
                if (!Convert(cr1 >> PageGeometry.Shift, $"vcpu{vcpu}'s cr1", out ulong cr1Pfn, out error))
                {
                    return false;
                }

                layout.WriteWord(destination, layout.ControlRegister(1), 1 | (cr1Pfn << PageGeometry.Shift));
            }
        }

        return true;
    }

    /// <summary>
    /// Installs a normalised basic context (process_vcpu_basic, at stream completion): the vCPU
    /// goes online, GDT frames, cr3 and cr1 are checked (range, type, pseudophysmap) and turned
    /// into mfns. For vcpu0 the start_info pfn in edx is checked and converted too; call
    /// <see cref="LocaliseStartInfo"/> for the page itself. All page types must be final.
    /// </summary>
    public void LocaliseVcpuBasic(int vcpu, ReadOnlySpan<byte> normalised)
    {
        ThrowIfDiscarded();
        RequireVcpu(vcpu);
        VcpuGuestContextLayout layout = VcpuGuestContextLayout.ForWidth(Geometry.GuestWidth);
        if (normalised.Length != layout.Size)
        {
            throw new DomainException(
                $"vcpu{vcpu} basic context wrong size: expected {layout.Size}, got {normalised.Length}");
        }

        byte[] ctx = normalised.ToArray();

        if (vcpu == 0)
        {
            ulong siPfn = layout.ReadWord(ctx, layout.Rdx);
            layout.WriteWord(ctx, layout.Rdx, CheckedFrameFor(siPfn, PageType.Normal, "Start Info"));
        }

        layout.WriteWord(ctx, layout.Flags, layout.ReadWord(ctx, layout.Flags) | VcpuGuestContextLayout.FlagOnline);

        ulong gdtEnts = layout.ReadWord(ctx, layout.GdtEntries);
        if (gdtEnts > VcpuGuestContextLayout.FirstReservedGdtEntry)
        {
            throw new DomainException(
                $"GDT entry count ({gdtEnts}) out of range (max {VcpuGuestContextLayout.FirstReservedGdtEntry})");
        }

        int gdtFrames = (int)((gdtEnts + 511) / 512);
        for (int i = 0; i < gdtFrames; i++)
        {
            ulong pfn = layout.ReadWord(ctx, layout.GdtFrame(i));
            layout.WriteWord(ctx, layout.GdtFrame(i), CheckedFrameFor(pfn, PageType.Normal, $"GDT frame {i}"));
        }

        PageType top = PageTypeExtensions.ForTableLevel(Geometry.PageTableLevels);
        ulong cr3Pfn = Geometry.Cr3ToFrame(layout.ReadWord(ctx, layout.ControlRegister(3)));
        layout.WriteWord(ctx, layout.ControlRegister(3), Geometry.FrameToCr3(CheckedFrameFor(cr3Pfn, top, "cr3")));

        if (Geometry.PageTableLevels == 4)
        {
            ulong cr1 = layout.ReadWord(ctx, layout.ControlRegister(1));
            if ((cr1 & 1) != 0)
            {
                ulong mfn = CheckedFrameFor(cr1 >> PageGeometry.Shift, top, "cr1");
                layout.WriteWord(ctx, layout.ControlRegister(1), mfn << PageGeometry.Shift);
            }
        }

        PvVcpuState state = _vcpus[vcpu];
        state.Basic = ctx;
        state.Online = true;
    }

    // A pfn named by vcpu state, checked as process_vcpu_basic does: in range, of the expected type, backed.
    private ulong CheckedFrameFor(ulong pfn, PageType expected, string what)
    {
        if (pfn > _maxPfn)
        {
            throw new DomainException($"{what} (pfn 0x{pfn:x}) out of range (max_pfn 0x{_maxPfn:x})");
        }

        PageInfo info = GetPageInfo(pfn);
        if (info.Type != expected)
        {
            throw new DomainException($"{what} (pfn 0x{pfn:x}) has bad type {info.Type}, expected {expected}");
        }

        ulong mfn = PfnToMfn(pfn);
        if (!MfnInPseudophysmap(mfn))
        {
            throw new DomainException($"{what} (pfn 0x{pfn:x}) has bad mfn 0x{mfn:x}");
        }

        return mfn;
    }
}
