using StreamBench.X86;

namespace StreamBench.Domain.Hvm.Context;

/// <summary>PIC: struct hvm_hw_vpic (8 bytes). Instance 0 is the master, 1 the slave.</summary>
public sealed class HvmPicState : HvmSaveEntry
{
    /// <summary>Byte offsets.</summary>
    public const int Irr = 0, Imr = 1, Isr = 2, IrqBase = 3, InitStateAndPriority = 4, ModeBits = 5, Elcr = 6, IntOutput = 7;

    /// <summary>Bit of the mode byte: is_master.</summary>
    public const byte IsMasterBit = 1 << 6;

    /// <summary>Bit of the mode byte: auto_eoi.</summary>
    public const byte AutoEoiBit = 1 << 2;

    /// <summary>A zeroed PIC.</summary>
    public HvmPicState() : this(null) { }

    internal HvmPicState(byte[]? data) : base(HvmSaveType.Pic, HvmSaveEntryFactory.Fixed(HvmSaveType.Pic, data)) { }

    /// <summary>Interrupt request register.</summary>
    public byte RequestRegister { get => Data[Irr]; set => Data[Irr] = value; }

    /// <summary>Interrupt mask register.</summary>
    public byte MaskRegister { get => Data[Imr]; set => Data[Imr] = value; }

    /// <summary>In-service register.</summary>
    public byte InServiceRegister { get => Data[Isr]; set => Data[Isr] = value; }

    /// <summary>Vector base.</summary>
    public byte VectorBase { get => Data[IrqBase]; set => Data[IrqBase] = value; }

    /// <summary>The bitfield byte (readsel_isr, poll, auto_eoi, rotate, sfnm, special mask, is_master).</summary>
    public byte Mode { get => Data[ModeBits]; set => Data[ModeBits] = value; }

    /// <summary>Edge/level control register.</summary>
    public byte EdgeLevel { get => Data[Elcr]; set => Data[Elcr] = value; }

    /// <summary>True for the master PIC.</summary>
    public bool IsMaster => (Data[ModeBits] & IsMasterBit) != 0;
}

/// <summary>IOAPIC: struct hvm_hw_vioapic with 48 redirection entries (400 bytes).</summary>
public sealed class HvmIoApicState : HvmSaveEntry
{
    /// <summary>Field offsets.</summary>
    public const int BaseAddress = 0, IoRegSel = 8, Id = 12, RedirectionTable = 16;

    /// <summary>VIOAPIC_NUM_PINS.</summary>
    public const int Pins = 48;

    /// <summary>The mask bit of a redirection entry.</summary>
    public const ulong MaskBit = 1ul << 16;

    /// <summary>A zeroed IOAPIC.</summary>
    public HvmIoApicState() : this(null) { }

    internal HvmIoApicState(byte[]? data) : base(HvmSaveType.Ioapic, HvmSaveEntryFactory.Fixed(HvmSaveType.Ioapic, data)) { }

    /// <summary>base_address.</summary>
    public ulong Base { get => U64(BaseAddress); set => SetU64(BaseAddress, value); }

    /// <summary>ioregsel.</summary>
    public uint RegisterSelect { get => U32(IoRegSel); set => SetU32(IoRegSel, value); }

    /// <summary>id.</summary>
    public uint ApicId { get => U32(Id); set => SetU32(Id, value); }

    /// <summary>redirtbl[<paramref name="pin"/>].</summary>
    public ulong GetRedirection(int pin) => U64(RedirectionTable + (pin * 8));

    /// <summary>Sets redirtbl[<paramref name="pin"/>].</summary>
    public void SetRedirection(int pin, ulong value) => SetU64(RedirectionTable + (pin * 8), value);
}

/// <summary>PCI_IRQ: 128 PCI INTx wires (16 bytes).</summary>
public sealed class HvmPciIrqState : HvmSaveEntry
{
    /// <summary>All wires low.</summary>
    public HvmPciIrqState() : this(null) { }

    internal HvmPciIrqState(byte[]? data) : base(HvmSaveType.PciIrq, HvmSaveEntryFactory.Fixed(HvmSaveType.PciIrq, data)) { }

    /// <summary>Wire device*4+intx.</summary>
    public bool this[int wire]
    {
        get => (Data[wire >> 3] & (1 << (wire & 7))) != 0;
        set => Data[wire >> 3] = (byte)(value ? Data[wire >> 3] | (1 << (wire & 7)) : Data[wire >> 3] & ~(1 << (wire & 7)));
    }
}

/// <summary>ISA_IRQ: 16 ISA IRQ wires (8 bytes).</summary>
public sealed class HvmIsaIrqState : HvmSaveEntry
{
    /// <summary>All wires low.</summary>
    public HvmIsaIrqState() : this(null) { }

    internal HvmIsaIrqState(byte[]? data) : base(HvmSaveType.IsaIrq, HvmSaveEntryFactory.Fixed(HvmSaveType.IsaIrq, data)) { }

    /// <summary>ISA IRQ wire <paramref name="irq"/>.</summary>
    public bool this[int irq]
    {
        get => (Data[irq >> 3] & (1 << (irq & 7))) != 0;
        set => Data[irq >> 3] = (byte)(value ? Data[irq >> 3] | (1 << (irq & 7)) : Data[irq >> 3] & ~(1 << (irq & 7)));
    }
}

/// <summary>PCI_LINK: route[4] + padding (8 bytes).</summary>
public sealed class HvmPciLinkState : HvmSaveEntry
{
    /// <summary>All links unrouted.</summary>
    public HvmPciLinkState() : this(null) { }

    internal HvmPciLinkState(byte[]? data) : base(HvmSaveType.PciLink, HvmSaveEntryFactory.Fixed(HvmSaveType.PciLink, data)) { }

    /// <summary>The GSI link <paramref name="link"/> (0..3) routes to.</summary>
    public byte this[int link] { get => Data[link]; set => Data[link] = value; }
}

/// <summary>PIT: struct hvm_hw_pit (3 channels of 16 bytes, speaker_data_on, pad; 56 bytes).</summary>
public sealed class HvmPitState : HvmSaveEntry
{
    /// <summary>Bytes per channel.</summary>
    public const int ChannelSize = 16;

    /// <summary>Offsets within a channel.</summary>
    public const int Count = 0, LatchedCount = 4, RwMode = 12, ChannelMode = 13, Gate = 15;

    /// <summary>speaker_data_on.</summary>
    public const int SpeakerDataOn = 48;

    /// <summary>A zeroed PIT.</summary>
    public HvmPitState() : this(null) { }

    internal HvmPitState(byte[]? data) : base(HvmSaveType.Pit, HvmSaveEntryFactory.Fixed(HvmSaveType.Pit, data)) { }

    /// <summary>Channel <paramref name="channel"/>'s 16 bytes.</summary>
    public Span<byte> Channel(int channel) => Data.Slice(channel * ChannelSize, ChannelSize);

    /// <summary>Channel count (u32, may be 65536).</summary>
    public uint GetCount(int channel) => U32((channel * ChannelSize) + Count);

    /// <summary>Sets a channel's count.</summary>
    public void SetCount(int channel, uint value) => SetU32((channel * ChannelSize) + Count, value);

    /// <summary>speaker_data_on.</summary>
    public uint Speaker { get => U32(SpeakerDataOn); set => SetU32(SpeakerDataOn, value); }
}

/// <summary>RTC: 14 CMOS bytes, cmos_index, pad, rtc_offset (24 bytes).</summary>
public sealed class HvmRtcState : HvmSaveEntry
{
    /// <summary>RTC_CMOS_SIZE.</summary>
    public const int CmosSize = 14;

    /// <summary>A zeroed RTC.</summary>
    public HvmRtcState() : this(null) { }

    internal HvmRtcState(byte[]? data) : base(HvmSaveType.Rtc, HvmSaveEntryFactory.Fixed(HvmSaveType.Rtc, data)) { }

    /// <summary>cmos_data.</summary>
    public Span<byte> Cmos => Data[..CmosSize];

    /// <summary>cmos_index.</summary>
    public byte Index { get => Data[CmosSize]; set => Data[CmosSize] = value; }

    /// <summary>rtc_offset: the guest clock's offset from host time (int64 at byte 16, after pad0).</summary>
    public long Offset
    {
        get => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(Data[16..]);
        set => System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(Data[16..], value);
    }
}

/// <summary>HPET: struct hvm_hw_hpet (1048 bytes).</summary>
public sealed class HvmHpetState : HvmSaveEntry
{
    /// <summary>Field offsets.</summary>
    public const int Capability = 0, Config = 16, Isr = 32, MainCounter = 240, Timers = 256, Periods = 1024;

    /// <summary>HPET_TIMER_NUM.</summary>
    public const int TimerCount = 3;

    /// <summary>A zeroed HPET.</summary>
    public HvmHpetState() : this(null) { }

    internal HvmHpetState(byte[]? data) : base(HvmSaveType.Hpet, HvmSaveEntryFactory.Fixed(HvmSaveType.Hpet, data)) { }

    /// <summary>capability.</summary>
    public ulong Capabilities { get => U64(Capability); set => SetU64(Capability, value); }

    /// <summary>config.</summary>
    public ulong Configuration { get => U64(Config); set => SetU64(Config, value); }

    /// <summary>mc64.</summary>
    public ulong Counter { get => U64(MainCounter); set => SetU64(MainCounter, value); }

    /// <summary>timers[<paramref name="t"/>].config.</summary>
    public ulong GetTimerConfig(int t) => U64(Timers + (t * 32));

    /// <summary>Sets timers[<paramref name="t"/>].config.</summary>
    public void SetTimerConfig(int t, ulong value) => SetU64(Timers + (t * 32), value);

    /// <summary>timers[<paramref name="t"/>].cmp.</summary>
    public ulong GetTimerComparator(int t) => U64(Timers + (t * 32) + 8);

    /// <summary>Sets timers[<paramref name="t"/>].cmp.</summary>
    public void SetTimerComparator(int t, ulong value) => SetU64(Timers + (t * 32) + 8, value);

    /// <summary>period[<paramref name="t"/>].</summary>
    public ulong GetPeriod(int t) => U64(Periods + (t * 8));

    /// <summary>Sets period[<paramref name="t"/>].</summary>
    public void SetPeriod(int t, ulong value) => SetU64(Periods + (t * 8), value);
}

/// <summary>PMTIMER: struct hvm_hw_pmtimer (8 bytes).</summary>
public sealed class HvmPmTimerState : HvmSaveEntry
{
    /// <summary>A zeroed PM timer.</summary>
    public HvmPmTimerState() : this(null) { }

    internal HvmPmTimerState(byte[]? data) : base(HvmSaveType.PmTimer, HvmSaveEntryFactory.Fixed(HvmSaveType.PmTimer, data)) { }

    /// <summary>tmr_val.</summary>
    public uint TimerValue { get => U32(0); set => SetU32(0, value); }

    /// <summary>pm1a_sts.</summary>
    public ushort Status { get => U16(4); set => SetU16(4, value); }

    /// <summary>pm1a_en.</summary>
    public ushort Enable { get => U16(6); set => SetU16(6, value); }
}

/// <summary>VIRIDIAN_DOMAIN: struct hvm_viridian_domain_context (32 bytes).</summary>
public sealed class HvmViridianDomainState : HvmSaveEntry
{
    /// <summary>A zeroed record.</summary>
    public HvmViridianDomainState() : this(null) { }

    internal HvmViridianDomainState(byte[]? data) : base(HvmSaveType.ViridianDomain, HvmSaveEntryFactory.Fixed(HvmSaveType.ViridianDomain, data)) { }

    /// <summary>hypercall_gpa.</summary>
    public ulong HypercallGpa { get => U64(0); set => SetU64(0, value); }

    /// <summary>guest_os_id.</summary>
    public ulong GuestOsId { get => U64(8); set => SetU64(8, value); }
}
