namespace StreamBench.Domain;

/// <summary>One CPUID policy leaf (xen_cpuid_leaf_t: leaf, subleaf, eax, ebx, ecx, edx).</summary>
/// <param name="Leaf">The CPUID leaf (eax input).</param>
/// <param name="Subleaf">The subleaf (ecx input), or <see cref="NoSubleaf"/>.</param>
/// <param name="A">eax output.</param>
/// <param name="B">ebx output.</param>
/// <param name="C">ecx output.</param>
/// <param name="D">edx output.</param>
public readonly record struct CpuidLeaf(uint Leaf, uint Subleaf, uint A, uint B, uint C, uint D)
{
    /// <summary>XEN_CPUID_NO_SUBLEAF: the leaf has no subleaves.</summary>
    public const uint NoSubleaf = 0xFFFF_FFFFu;

    /// <inheritdoc/>
    public override string ToString() =>
        $"cpuid {Leaf:x8}/{(Subleaf == NoSubleaf ? "-" : Subleaf.ToString("x"))}: {A:x8} {B:x8} {C:x8} {D:x8}";
}

/// <summary>One MSR policy entry (xen_msr_entry_t: idx, flags (must be zero), val).</summary>
/// <param name="Index">The MSR index.</param>
/// <param name="Flags">Reserved flags; Xen requires zero.</param>
/// <param name="Value">The policy value.</param>
public readonly record struct MsrPolicyEntry(uint Index, uint Flags, ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"msr {Index:x8} flags {Flags:x} = {Value:x16}";
}

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
