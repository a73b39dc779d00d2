namespace StreamBench.Formats.Wire;

// Where each fixed field of a header or fixed-layout body is, by name (as System.Formats.Tar's FieldLocations).
// Sizes stay with their layer (LibxcWire.ImageHeaderSize, Framing.RecordHeaderSize, ...): a layout names offsets only.
// Readers, writers, rules, the engine and the synthesizer use these names instead of bare numbers.

/// <summary>The libxc image header (big-endian; FORMATS.md 3.1), <see cref="LibxcWire.ImageHeaderSize"/> bytes.</summary>
public static class LibxcImageHeaderLayout
{
    /// <summary>u64 marker (all ones).</summary>
    public const int Marker = 0;
    /// <summary>u32 id ("XENF").</summary>
    public const int Id = 8;
    /// <summary>u32 version.</summary>
    public const int Version = 12;
    /// <summary>u16 options.</summary>
    public const int Options = 16;
    /// <summary>u16 reserved.</summary>
    public const int Reserved1 = 18;
    /// <summary>u32 reserved.</summary>
    public const int Reserved2 = 20;
}

/// <summary>The libxc domain header (little-endian; FORMATS.md 3.2), <see cref="LibxcWire.DomainHeaderSize"/> bytes.</summary>
public static class LibxcDomainHeaderLayout
{
    /// <summary>u32 type.</summary>
    public const int Type = 0;
    /// <summary>u16 page_shift.</summary>
    public const int PageShift = 4;
    /// <summary>u16 reserved.</summary>
    public const int Reserved = 6;
    /// <summary>u32 xen_major.</summary>
    public const int XenMajor = 8;
    /// <summary>u32 xen_minor.</summary>
    public const int XenMinor = 12;
}

/// <summary>The libxl stream header (big-endian; FORMATS.md 2.1), <see cref="LibxlWire.HeaderSize"/> bytes.</summary>
public static class LibxlHeaderLayout
{
    /// <summary>u64 ident ("LibxlFmt").</summary>
    public const int Ident = 0;
    /// <summary>u32 version.</summary>
    public const int Version = 8;
    /// <summary>u32 options.</summary>
    public const int Options = 12;
}

/// <summary>The record header of libxl and libxc (little-endian; FORMATS.md 2.2), <see cref="Framing.RecordHeaderSize"/> bytes.</summary>
public static class RecordHeaderLayout
{
    /// <summary>u32 type.</summary>
    public const int Type = 0;
    /// <summary>u32 body_length.</summary>
    public const int Length = 4;
}

/// <summary>The X86_TSC_INFO body (FORMATS.md 4.1), <see cref="LibxcBodySizes.TscInfo"/> bytes.</summary>
public static class TscInfoLayout
{
    /// <summary>u32 mode.</summary>
    public const int Mode = 0;
    /// <summary>u32 khz.</summary>
    public const int Khz = 4;
    /// <summary>u64 nsec.</summary>
    public const int Nsec = 8;
    /// <summary>u32 incarnation.</summary>
    public const int Incarnation = 16;
    /// <summary>u32 reserved.</summary>
    public const int Reserved = 20;
}

/// <summary>The body of the HVM save blob's HEADER record (xen/include/public/arch-x86/hvm/save.h), <see cref="HvmSaveWire.HeaderBodySize"/> bytes.</summary>
public static class HvmSaveHeaderLayout
{
    /// <summary>u32 magic.</summary>
    public const int Magic = 0;
    /// <summary>u32 version.</summary>
    public const int Version = 4;
    /// <summary>u64 changeset.</summary>
    public const int Changeset = 8;
    /// <summary>u32 cpuid.</summary>
    public const int Cpuid = 16;
    /// <summary>u32 gtsc_khz.</summary>
    public const int GtscKhz = 20;
}
