namespace StreamBench.Domain;

/// <summary>The kinds of x86 guest the bench simulates.</summary>
public enum GuestType
{
    /// <summary>64-bit PV guest: guest width 8, 4 page-table levels.</summary>
    Pv,

    /// <summary>32-bit PAE PV guest: guest width 4, 3 page-table levels.</summary>
    Pv32,

    /// <summary>Fully virtualised guest with a device model (emulated PIC, PIT, RTC, ...).</summary>
    Hvm,

    /// <summary>HVM container without a device model: HVM memory model, no legacy devices.</summary>
    Pvh,
}

/// <summary>Small queries on <see cref="GuestType"/>.</summary>
public static class GuestTypeExtensions
{
    /// <summary>True for the paravirtualised kinds (PV page tables, p2m, start_info).</summary>
    public static bool IsPv(this GuestType type) => type is GuestType.Pv or GuestType.Pv32;

    /// <summary>True for the HVM-container kinds (guest-physical memory, HVM params and context).</summary>
    public static bool IsHvmContainer(this GuestType type) => type is GuestType.Hvm or GuestType.Pvh;

    /// <summary>Parses the command-line spelling: pv, pv32, hvm, pvh.</summary>
    public static GuestType Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "pv" or "pv64" => GuestType.Pv,
        "pv32" => GuestType.Pv32,
        "hvm" => GuestType.Hvm,
        "pvh" => GuestType.Pvh,
        _ => throw new ArgumentException($"unknown guest type '{text}', expected pv, pv32, hvm or pvh", nameof(text)),
    };

    /// <summary>The command-line spelling.</summary>
    public static string ToName(this GuestType type) => type switch
    {
        GuestType.Pv => "pv",
        GuestType.Pv32 => "pv32",
        GuestType.Hvm => "hvm",
        GuestType.Pvh => "pvh",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
