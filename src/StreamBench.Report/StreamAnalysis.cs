using StreamBench.Formats.Records;
using StreamBench.Formats.Verification;

namespace StreamBench.Report;

/// <summary>
/// One piece of the record map: a single record (or header, protocol message) with its decoded fields, or a run of
/// consecutive page records of one type merged into one piece (the map never holds one entry per page record).
/// </summary>
/// <param name="Offset">Byte offset of the first item.</param>
/// <param name="Length">Bytes covered (headers, bodies and padding).</param>
/// <param name="Layer">xl, libxl, libxc, back-channel, migrate, legacy.</param>
/// <param name="Type">The record type name (or the header/message kind).</param>
/// <param name="FirstRecord">Index of the first record (-1 for headers and messages).</param>
/// <param name="LastRecord">Index of the last record in a run.</param>
/// <param name="Count">Items merged into this piece.</param>
/// <param name="Checkpoint">0-based checkpoint the piece belongs to (0 outside checkpointed streams).</param>
/// <param name="Pass">The memory pass of a page run, or -1.</param>
/// <param name="Fields">The describer's fields for a single item; totals for a run.</param>
public sealed record ReportSegment(long Offset, long Length, string Layer, string Type, long FirstRecord, long LastRecord, long Count,
    int Checkpoint, int Pass, IReadOnlyList<RecordField> Fields);

/// <summary>What kind of memory pass a run of page records is.</summary>
public enum PassKind
{
    /// <summary>The only pass of a non-live save.</summary>
    Single,
    /// <summary>A pre-copy pass while the guest runs.</summary>
    Live,
    /// <summary>The last pass, after the guest was suspended (stop-and-copy).</summary>
    Final,
    /// <summary>The pages after a VERIFY record (<c>xl migrate --debug</c>).</summary>
    Verify,
    /// <summary>The pages of one Remus/COLO checkpoint after the first.</summary>
    Checkpoint,
    /// <summary>POSTCOPY_PAGE_DATA after the post-copy transition (background pages and fault replies).</summary>
    Postcopy,
}

/// <summary>One memory pass: consecutive page records whose pfns ascend (Xen walks the pfns in order each pass).</summary>
public sealed record PassStats(int Index, int Checkpoint, PassKind Kind, long StartOffset, long EndOffset, long Records, long PfnEntries,
    long DataPages, long Bytes, ulong MinPfn, ulong MaxPfn);

/// <summary>One checkpoint of a Remus/COLO stream (checkpoint 0 holds the initial live migration).</summary>
/// <param name="StartTimeNs">In a capture: arrival time of the checkpoint's first byte (nanoseconds from the capture's start), else -1.</param>
/// <param name="EndTimeNs">In a capture: arrival time of its last byte, else -1.</param>
public sealed record CheckpointStats(int Index, long StartOffset, long EndOffset, long Records, long DataPages, bool Complete,
    long StartTimeNs = -1, long EndTimeNs = -1)
{
    /// <summary>Bytes of the checkpoint.</summary>
    public long Bytes => EndOffset - StartOffset;
}

/// <summary>A back-channel record (COLO CHECKPOINT_STATE, post-copy faults) or an <c>xl migrate</c> message.</summary>
/// <param name="Offset">Offset in its direction.</param>
/// <param name="Type">Record type or message name.</param>
/// <param name="Fields">Decoded fields.</param>
/// <param name="TimeNs">Arrival time in a capture (nanoseconds from its start), or -1.</param>
public sealed record BackChannelMessage(long Offset, string Type, IReadOnlyList<RecordField> Fields, long TimeNs);

/// <summary>One section of a QEMU savevm (QEVM) image inside a libxl EMULATOR_CONTEXT record.</summary>
/// <param name="RecordIndex">The EMULATOR_CONTEXT record.</param>
/// <param name="Offset">Offset of the section header in the stream.</param>
/// <param name="SectionType">QEMU's section type byte name (SECTION_FULL, ...).</param>
/// <param name="SectionId">QEMU's section id.</param>
/// <param name="Name">The device's id string (e.g. "timer", "0000:00:02.0/vga").</param>
/// <param name="InstanceId">Instance id.</param>
/// <param name="VersionId">The device state's version.</param>
/// <param name="Size">Bytes of the section, header and footer included; -1 when its end was not found.</param>
public sealed record QevmSection(long RecordIndex, long Offset, string SectionType, uint SectionId, string Name, uint InstanceId, uint VersionId, long Size);

/// <summary>Post-copy (RFC dialect): pages before and after the transition, faults from the back channel.</summary>
public sealed record PostcopyStats(long PrecopyPages, long PostcopyRecords, long BackgroundPages, long Faults, long FaultPfns,
    IReadOnlyList<(long Offset, long CumulativePages)> Progress);

/// <summary>Everything the report shows about one stream.</summary>
public sealed class StreamAnalysis
{
    /// <summary>What was read (path and direction).</summary>
    public required string Description { get; init; }

    /// <summary>A note about how the bytes were obtained (legacy conversion, decompression, capture state), or null.</summary>
    public string? InputNote { get; init; }

    /// <summary>The verifier's result (strict profile): summary and findings.</summary>
    public required VerifyResult Verification { get; init; }

    /// <summary>The record map.</summary>
    public required IReadOnlyList<ReportSegment> Segments { get; init; }

    /// <summary>Whether pieces beyond the segment budget were merged more coarsely.</summary>
    public bool SegmentsCoarsened { get; init; }

    /// <summary>Memory passes.</summary>
    public required IReadOnlyList<PassStats> Passes { get; init; }

    /// <summary>Checkpoints (empty for a plain stream).</summary>
    public required IReadOnlyList<CheckpointStats> Checkpoints { get; init; }

    /// <summary>Back-channel records found in this stream (a back-channel input) or given by a capture's other direction.</summary>
    public required IReadOnlyList<BackChannelMessage> BackChannel { get; init; }

    /// <summary>QEVM sections of every EMULATOR_CONTEXT.</summary>
    public required IReadOnlyList<QevmSection> Qevm { get; init; }

    /// <summary>EMULATOR_CONTEXT records that do not hold a QEVM image, or whose sections could not be walked.</summary>
    public required IReadOnlyList<string> EmulatorNotes { get; init; }

    /// <summary>Post-copy figures, or null outside the post-copy dialect.</summary>
    public PostcopyStats? Postcopy { get; init; }

    /// <summary>Number of vCPU records seen (X86_PV_VCPU_BASIC count, or HVM CPU save entries), or null.</summary>
    public int? Vcpus { get; init; }

    /// <summary>The stream's error, when reading stopped early; the map ends there.</summary>
    public string? ReadError { get; init; }

    /// <summary>Offset where the final (suspended) pass starts, or -1.</summary>
    public long FinalPassOffset => Passes.FirstOrDefault(p => p.Kind == PassKind.Final)?.StartOffset ?? -1;
}
