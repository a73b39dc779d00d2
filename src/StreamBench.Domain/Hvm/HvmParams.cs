namespace StreamBench.Domain.Hvm;

/// <summary>HVM_PARAM_* indices (xen/include/public/hvm/params.h).</summary>
public static class HvmParamIndex
{
    /// <summary>HVM_PARAM_CALLBACK_IRQ.</summary>
    public const uint CallbackIrq = 0;
    /// <summary>HVM_PARAM_STORE_PFN.</summary>
    public const uint StorePfn = 1;
    /// <summary>HVM_PARAM_STORE_EVTCHN.</summary>
    public const uint StoreEvtchn = 2;
    /// <summary>HVM_PARAM_PAE_ENABLED (obsolete; restore drops it).</summary>
    public const uint PaeEnabled = 4;
    /// <summary>HVM_PARAM_IOREQ_PFN.</summary>
    public const uint IoreqPfn = 5;
    /// <summary>HVM_PARAM_BUFIOREQ_PFN.</summary>
    public const uint BufioreqPfn = 6;
    /// <summary>HVM_PARAM_VIRIDIAN.</summary>
    public const uint Viridian = 9;
    /// <summary>HVM_PARAM_TIMER_MODE.</summary>
    public const uint TimerMode = 10;
    /// <summary>HVM_PARAM_HPET_ENABLED.</summary>
    public const uint HpetEnabled = 11;
    /// <summary>HVM_PARAM_IDENT_PT (a guest-physical address).</summary>
    public const uint IdentPt = 12;
    /// <summary>HVM_PARAM_ACPI_S_STATE.</summary>
    public const uint AcpiSState = 14;
    /// <summary>HVM_PARAM_VM86_TSS.</summary>
    public const uint Vm86Tss = 15;
    /// <summary>HVM_PARAM_VPT_ALIGN.</summary>
    public const uint VptAlign = 16;
    /// <summary>HVM_PARAM_CONSOLE_PFN.</summary>
    public const uint ConsolePfn = 17;
    /// <summary>HVM_PARAM_CONSOLE_EVTCHN.</summary>
    public const uint ConsoleEvtchn = 18;
    /// <summary>HVM_PARAM_ACPI_IOPORTS_LOCATION.</summary>
    public const uint AcpiIoportsLocation = 19;
    /// <summary>HVM_PARAM_NESTEDHVM.</summary>
    public const uint NestedHvm = 24;
    /// <summary>HVM_PARAM_BUFIOREQ_EVTCHN.</summary>
    public const uint BufioreqEvtchn = 26;
    /// <summary>HVM_PARAM_PAGING_RING_PFN.</summary>
    public const uint PagingRingPfn = 27;
    /// <summary>HVM_PARAM_MONITOR_RING_PFN.</summary>
    public const uint MonitorRingPfn = 28;
    /// <summary>HVM_PARAM_SHARING_RING_PFN.</summary>
    public const uint SharingRingPfn = 29;
    /// <summary>HVM_PARAM_TRIPLE_FAULT_REASON.</summary>
    public const uint TripleFaultReason = 31;
    /// <summary>HVM_PARAM_IOREQ_SERVER_PFN.</summary>
    public const uint IoreqServerPfn = 32;
    /// <summary>HVM_PARAM_NR_IOREQ_SERVER_PAGES.</summary>
    public const uint NrIoreqServerPages = 33;
    /// <summary>HVM_PARAM_VM_GENERATION_ID_ADDR.</summary>
    public const uint VmGenerationIdAddr = 34;
    /// <summary>HVM_PARAM_ALTP2M.</summary>
    public const uint Altp2m = 35;
    /// <summary>HVM_PARAM_X87_FIP_WIDTH.</summary>
    public const uint X87FipWidth = 36;
    /// <summary>HVM_PARAM_VM86_TSS_SIZED.</summary>
    public const uint Vm86TssSized = 37;
    /// <summary>HVM_PARAM_MCA_CAP.</summary>
    public const uint McaCap = 38;

    /// <summary>HVM_NR_PARAMS: indices at or above this are refused (HVMOP_set_param returns -EINVAL).</summary>
    public const uint Count = 39;

    /// <summary>
    /// The params Xen's saver sends when non-zero (xg_sr_save_x86_hvm.c write_hvm_params), in its order.
    /// Domain knowledge of Xen's toolstack, not wire format: the engine decides what to emit.
    /// </summary>
    public static IReadOnlyList<uint> SavedByXen { get; } =
    [
        StorePfn, IoreqPfn, BufioreqPfn, PagingRingPfn, MonitorRingPfn, SharingRingPfn, Vm86TssSized,
        ConsolePfn, AcpiIoportsLocation, Viridian, IdentPt, VmGenerationIdAddr, IoreqServerPfn,
        NrIoreqServerPages, X87FipWidth, McaCap,
    ];
}

/// <summary>The domain's HVM params: index → value, kept in index order.</summary>
public sealed class HvmParams
{
    private readonly SortedDictionary<uint, ulong> _values = [];

    /// <summary>Number of params set.</summary>
    public int Count => _values.Count;

    /// <summary>The value of a param, or 0 if unset (HVMOP_get_param semantics).</summary>
    public ulong Get(uint index) => _values.TryGetValue(index, out ulong v) ? v : 0;

    /// <summary>The value of a param if it is set.</summary>
    public bool TryGet(uint index, out ulong value) => _values.TryGetValue(index, out value);

    /// <summary>True if the param has been set.</summary>
    public bool Contains(uint index) => _values.ContainsKey(index);

    /// <summary>Sets a param. Indices ≥ <see cref="HvmParamIndex.Count"/> are refused, as Xen refuses them.</summary>
    public void Set(uint index, ulong value)
    {
        if (index >= HvmParamIndex.Count)
        {
            throw new DomainException($"HVM param index {index} out of range (HVM_NR_PARAMS is {HvmParamIndex.Count})");
        }

        _values[index] = value;
    }

    /// <summary>Unsets a param.</summary>
    public bool Remove(uint index) => _values.Remove(index);

    /// <summary>Every set param, in ascending index order.</summary>
    public IEnumerable<KeyValuePair<uint, ulong>> Entries() => _values;

    internal HvmParams Clone()
    {
        var copy = new HvmParams();
        foreach (KeyValuePair<uint, ulong> kv in _values)
        {
            copy._values.Add(kv.Key, kv.Value);
        }

        return copy;
    }
}
