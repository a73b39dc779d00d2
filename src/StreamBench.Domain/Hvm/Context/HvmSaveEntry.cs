using System.Buffers.Binary;
using StreamBench.X86;

namespace StreamBench.Domain.Hvm.Context;

/// <summary>
/// One HVM save record body, held as its exact bytes with typed accessors on top, so a context
/// round-trips byte for byte while code reads fields by name.
/// </summary>
public abstract class HvmSaveEntry
{
    private byte[] _data;

    private protected HvmSaveEntry(HvmSaveType type, byte[] data)
    {
        TypeCode = type;
        _data = data;
    }

    /// <summary>The save type.</summary>
    public HvmSaveType TypeCode { get; }

    /// <summary>The body bytes (descriptor excluded).</summary>
    public Span<byte> Data => _data;

    /// <summary>Body length.</summary>
    public int Length => _data.Length;

    /// <summary>The body as an array (no copy).</summary>
    internal byte[] RawArray => _data;

    /// <summary>A deep copy.</summary>
    public HvmSaveEntry Clone() => HvmSaveEntryFactory.Create(TypeCode, (byte[])_data.Clone());

    private protected void Resize(int length) => Array.Resize(ref _data, length);

    private protected ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan(offset));

    private protected void SetU64(int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(_data.AsSpan(offset), value);

    private protected uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(offset));

    private protected void SetU32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_data.AsSpan(offset), value);

    private protected ushort U16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(offset));

    private protected void SetU16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_data.AsSpan(offset), value);

    /// <inheritdoc/>
    public override string ToString() => $"{HvmSaveTypes.Name((ushort)TypeCode)} ({Length} bytes)";
}

/// <summary>Creates the typed entry class for a type code.</summary>
internal static class HvmSaveEntryFactory
{
    public static HvmSaveEntry Create(HvmSaveType type, byte[] data) => type switch
    {
        HvmSaveType.Header => new HvmSaveHeader(data),
        HvmSaveType.Cpu => new HvmCpuState(data),
        HvmSaveType.Pic => new HvmPicState(data),
        HvmSaveType.Ioapic => new HvmIoApicState(data),
        HvmSaveType.Lapic => new HvmLapicState(data),
        HvmSaveType.LapicRegs => new HvmLapicRegsState(data),
        HvmSaveType.PciIrq => new HvmPciIrqState(data),
        HvmSaveType.IsaIrq => new HvmIsaIrqState(data),
        HvmSaveType.PciLink => new HvmPciLinkState(data),
        HvmSaveType.Pit => new HvmPitState(data),
        HvmSaveType.Rtc => new HvmRtcState(data),
        HvmSaveType.Hpet => new HvmHpetState(data),
        HvmSaveType.PmTimer => new HvmPmTimerState(data),
        HvmSaveType.Mtrr => new HvmMtrrState(data),
        HvmSaveType.ViridianDomain => new HvmViridianDomainState(data),
        HvmSaveType.CpuXsave => new HvmCpuXsaveState(data),
        HvmSaveType.ViridianVcpu => new HvmViridianVcpuState(data),
        HvmSaveType.VmceVcpu => new HvmVmceVcpuState(data),
        HvmSaveType.TscAdjust => new HvmTscAdjustState(data),
        HvmSaveType.CpuMsr => new HvmCpuMsrState(data),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no entry class for this type"),
    };

    public static byte[] Fixed(HvmSaveType type, byte[]? data)
    {
        int length = HvmSaveTypes.FixedLength(type);
        data ??= new byte[length];
        if (type == HvmSaveType.Lapic && data.Length == HvmSaveTypes.LapicLengthWithX2ApicId)
        {
            return data;   // Xen 4.20's LAPIC (x2apic_id, rsvd_zero): kept at the length it came with
        }

        if (data.Length != length)
        {
            throw new ArgumentException($"{HvmSaveTypes.Name((ushort)type)} body must be {length} bytes, got {data.Length}", nameof(data));
        }

        return data;
    }
}

/// <summary>HEADER: struct hvm_save_header (24 bytes).</summary>
public sealed class HvmSaveHeader : HvmSaveEntry
{
    /// <summary>Offsets within the body.</summary>
    public const int MagicOffset = 0, VersionOffset = 4, ChangesetOffset = 8, CpuidOffset = 16, GtscKhzOffset = 20;

    /// <summary>A header with the right magic and version.</summary>
    public HvmSaveHeader() : base(HvmSaveType.Header, HvmSaveEntryFactory.Fixed(HvmSaveType.Header, null))
    {
        Magic = HvmSaveTypes.FileMagic;
        Version = HvmSaveTypes.FileVersion;
    }

    internal HvmSaveHeader(byte[] data) : base(HvmSaveType.Header, HvmSaveEntryFactory.Fixed(HvmSaveType.Header, data)) { }

    /// <summary>magic (must be 0x54381286).</summary>
    public uint Magic { get => U32(MagicOffset); set => SetU32(MagicOffset, value); }

    /// <summary>version (must be 1).</summary>
    public uint Version { get => U32(VersionOffset); set => SetU32(VersionOffset, value); }

    /// <summary>changeset of the saving Xen (~0 if unknown).</summary>
    public ulong Changeset { get => U64(ChangesetOffset); set => SetU64(ChangesetOffset, value); }

    /// <summary>CPUID[1].eax of the saving host.</summary>
    public uint Cpuid { get => U32(CpuidOffset); set => SetU32(CpuidOffset, value); }

    /// <summary>Guest TSC frequency in kHz.</summary>
    public uint GtscKhz { get => U32(GtscKhzOffset); set => SetU32(GtscKhzOffset, value); }
}
