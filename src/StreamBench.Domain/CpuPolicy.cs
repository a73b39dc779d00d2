namespace StreamBench.Domain;

/// <summary>One per-vCPU MSR value (xen_domctl_vcpu_msr_t: index, reserved, value).</summary>
/// <param name="Index">The MSR index.</param>
/// <param name="Value">The MSR value.</param>
public readonly record struct VcpuMsr(uint Index, ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"msr {Index:x8} = {Value:x16}";
}

/// <summary>Guest TSC settings (XEN_DOMCTL_{get,set}tscinfo).</summary>
/// <param name="Mode">TSC mode (0 default, 1 always emulate, 2 native, 3 no-write/pvrdtscp).</param>
/// <param name="KHz">Guest TSC frequency in kHz.</param>
/// <param name="ElapsedNanoseconds">Elapsed nanoseconds (Xen's "nsec"): moves on with wall time.</param>
/// <param name="Incarnation">How many times the domain has been restored/migrated (Xen bumps it on set).</param>
public readonly record struct TscInfo(uint Mode, uint KHz, ulong ElapsedNanoseconds, uint Incarnation);
