namespace StreamBench.Formats.Wire;

/// <summary>The libxl stream header (docs/specs/libxl-migration-stream.pandoc rev 2; FORMATS.md 2.1). Always big-endian.</summary>
public static class LibxlWire
{
    /// <summary>"LibxlFmt" read as a big-endian u64.</summary>
    public const ulong Ident = 0x4C69_6278_6C46_6D74ul;

    /// <summary>The only version libxl reads and writes.</summary>
    public const uint Version = 2;

    /// <summary>ident + version + options.</summary>
    public const int HeaderSize = 16;

    /// <summary>The emulator sub-header of EMULATOR_* records: u32 emulator_id, u32 index.</summary>
    public const int EmulatorSubHeaderSize = 8;

    /// <summary>CHECKPOINT_STATE body: u32 control_id (+ 4 bytes of padding).</summary>
    public const int CheckpointStateSize = 4;
}

/// <summary>libxl header option bits.</summary>
[Flags]
public enum LibxlOptions : uint
{
    /// <summary>Little-endian, native stream.</summary>
    None = 0,
    /// <summary>bit0: the stream is big-endian (libxl refuses it).</summary>
    BigEndian = 1u << 0,
    /// <summary>bit1: written by convert-legacy-stream.</summary>
    Legacy = 1u << 1,
    /// <summary>The bits defined by the spec; the rest (2..31) are reserved.</summary>
    Known = BigEndian | Legacy,
}

/// <summary>libxl record types (FORMATS.md 2.3). 6 is the post-copy RFC's, see <see cref="LibxlPostcopyRecordType"/>.</summary>
public enum LibxlRecordType : uint
{
    /// <summary>The last libxl record.</summary>
    End = 0x0,
    /// <summary>Empty; the libxc stream follows immediately.</summary>
    LibxcContext = 0x1,
    /// <summary>Emulator sub-header + NUL-terminated key/value pairs.</summary>
    EmulatorXenstoreData = 0x2,
    /// <summary>Emulator sub-header + opaque device-model state.</summary>
    EmulatorContext = 0x3,
    /// <summary>Ends one checkpoint's libxl records.</summary>
    CheckpointEnd = 0x4,
    /// <summary>COLO control: u32 control_id.</summary>
    CheckpointState = 0x5,
}

/// <summary>The post-copy RFC's libxl record (FORMATS.md 9). Not allocated upstream.</summary>
public enum LibxlPostcopyRecordType : uint
{
    /// <summary>Returns control to libxc for the post-copy memory phase.</summary>
    PostcopyTransitionEnd = 0x6,
}

/// <summary>The emulator_id of the emulator sub-header.</summary>
public enum EmulatorId : uint
{
    /// <summary>Unknown (streams converted from legacy).</summary>
    Unknown = 0,
    /// <summary>qemu-traditional (dropped in Xen 4.21).</summary>
    QemuTraditional = 1,
    /// <summary>qemu-upstream (qemu-xen).</summary>
    QemuUpstream = 2,
}

/// <summary>CHECKPOINT_STATE control ids (COLO; FORMATS.md 2.3).</summary>
public enum CheckpointControlId : uint
{
    /// <summary>Primary → secondary: the secondary is out of sync, start a new checkpoint.</summary>
    CheckpointNew = 0,
    /// <summary>Secondary → primary: the secondary VM is suspended.</summary>
    SvmSuspended = 1,
    /// <summary>Secondary → primary: the secondary VM is ready.</summary>
    SvmReady = 2,
    /// <summary>Secondary → primary: the secondary VM is resumed.</summary>
    SvmResumed = 3,
}
