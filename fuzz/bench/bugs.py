"""The planted-bug benchmark (docs/FUZZING.md, "Planted bugs"): bugs of the kinds real parsers have, each anchored on
a unique line of code (never on a path or a line number, so moving files between projects does not break them), all
applied to a scratch copy of the tree by tools/fuzz/bugbench.sh. Each is dormant unless the process is started with
STREAMBENCH_PLANTED_BUG=<id>: one build holds every bug, one bug is on at a time, and src/ never contains any of them.

An edit is (anchor, where, code): anchor is the exact text of one line of src/**/*.cs (leading/trailing blanks
ignored) and must match exactly one line; where is "before" or "after" (insert the code with the anchor line's
indentation) or "replace" (the code replaces the anchor line's text). `P` in code stands for the switch class.
"""

P = "global::StreamBench.Formats.PlantedBugs"

BUGS = [
    # ---------------------------------------------------------------- readers (XenStreamReader, LegacyStreamReader)
    dict(id=1, target="reader-libxc", area="reader", kind="nested one-byte comparisons",
         what="the libxc image header's reserved bytes 21, 22 = 0x5a, 0x7e make the reader index past its header copy",
         edits=[("_src.Advance(LibxcWire.ImageHeaderSize);", "before",
                 "if (P.On(1) && h[21] == 0x5a && h[22] == 0x7e) { _ = h[h.Length + h[23]]; }")]),
    dict(id=2, target="reader-libxc", area="reader", kind="length trusted before it is checked",
         what="an X86_TSC_INFO record's length is used to size a buffer before the body is known to be there",
         edits=[("Advance(layer, type);", "before",
                 "if (P.On(2) && layer == StreamLayer.Libxc && type == (uint)LibxcRecordType.X86TscInfo) { P.Keep(new byte[length]); }")]),
    dict(id=3, target="reader-libxl", area="reader", kind="off-by-one in a bound",
         what="a libxl record whose body leaves 7 padding bytes makes the padding copy run one byte past the 8-byte buffer",
         edits=[("_src.Peek(pad).CopyTo(_padding);", "before",
                 "if (P.On(3) && Layer == StreamLayer.Libxl && pad == 7) { _padding[pad + 1] = 0; }")]),
    dict(id=4, target="verifier-postcopy", area="verifier", kind="state machine (record sequence)",
         what="a POSTCOPY_PAGE_DATA after POSTCOPY_COMPLETE (a back-channel record put in the main stream) hits an unreachable state",
         edits=[("public void BeforeRecord(uint type)", "before", "private bool _plantedComplete;"),
                ("if (type is >= (uint)PostcopyRecordType.PostcopyBegin and <= (uint)PostcopyRecordType.PostcopyComplete || _phase == Phase.Precopy)", "before",
                 "if (P.On(4)) { if (type == (uint)PostcopyRecordType.PostcopyComplete) { _plantedComplete = true; } else if (_plantedComplete && type == (uint)PostcopyRecordType.PostcopyPageData) { throw P.Crash(4, \"POSTCOPY_PAGE_DATA after POSTCOPY_COMPLETE\"); } }")]),
    # ---------------------------------------------------------------- verifier
    dict(id=5, target="verifier-strict", area="verifier", kind="nested one-byte comparisons (issue 20's probe)",
         what="X86_TSC_INFO's reserved u32 with bytes 0xa5, 0x3c (low first) indexes out of range",
         edits=[("_ctx.ReportInBody(TscReserved, TscInfoLayout.Reserved, \"reserved\", string.Create(CultureInfo.InvariantCulture, $\"expected 0, found 0x{tsc.Reserved:x8}\"));", "before",
                 "if (P.On(5) && (tsc.Reserved & 0xff) == 0xa5 && ((tsc.Reserved >> 8) & 0xff) == 0x3c) { _ = (new int[4])[4 + (tsc.Reserved >> 16)]; }")]),
    dict(id=6, target="verifier-xen", area="verifier", kind="multi-byte magic comparison",
         what="HVM_PARAMS' reserved u32 equal to the HVM save magic 0x54381286 takes a path that throws",
         edits=[("_ctx.ReportInBody(HvmParamsReserved, 4, \"reserved\", string.Create(CultureInfo.InvariantCulture, $\"expected 0, found 0x{hp.Reserved:x8}\"));", "before",
                 "if (P.On(6) && hp.Reserved == 0x54381286u) { throw P.Crash(6, \"HVM_PARAMS reserved = HVM magic\"); }")]),
    dict(id=7, target="verifier-strict", area="verifier", kind="off-by-one in a bound",
         what="a PAGE_DATA count of MAX_BATCH_SIZE + 1 (1025) passes a '> MaxBatchSize + 1' check and overruns a 1024-entry table",
         edits=[("var prefix = PageDataBody.PrefixLength(count);", "before",
                 "if (P.On(7) && count <= LibxcWire.MaxBatchSize + 1u && count > 0) { var plantedTable = new byte[LibxcWire.MaxBatchSize]; plantedTable[count - 1] = 1; }")]),
    dict(id=8, target="verifier-strict", area="verifier", kind="multi-byte value comparison",
         what="an X86_MSR_POLICY entry for EFER (0xc0000080) with flags 1 throws",
         edits=[("if (e.Flags != 0)", "before",
                 "if (P.On(8) && e.Index == 0xc0000080u && e.Flags == 1) { throw P.Crash(8, \"MSR policy: EFER with flags 1\"); }")]),
    dict(id=9, target="verifier-xen", area="verifier", kind="state machine (record sequence)",
         what="a libxl CHECKPOINT_STATE with control_id 2 (FAILOVER) right after CHECKPOINT_END: a checkpoint message after failover",
         edits=[("CheckpointStateLayout();", "after",
                 "if (P.On(9) && _previousType == (uint)LibxlRecordType.CheckpointEnd && _ctx.Reader.BodyLength >= 4 && _ctx.Reader.BodyPrefix(4)[0] == 2) { throw P.Crash(9, \"CHECKPOINT_STATE(failover) after CHECKPOINT_END\"); }")]),
    # ---------------------------------------------------------------- legacy reader
    dict(id=10, target="reader-legacy", area="legacy reader", kind="legacy chunk combination",
         what="a TSC_INFO chunk (-7) with mode 3 after a LAST_CHECKPOINT chunk (-9) throws",
         edits=[("_src.Advance(LegacyLayout.TscChunkPayload);", "before",
                 "if (P.On(10) && LastCheckpointSeen && p[0] == 3) { throw P.Crash(10, \"TSC_INFO mode 3 after LAST_CHECKPOINT\"); }")]),
    dict(id=11, target="reader-legacy", area="legacy reader", kind="off-by-one in a bound",
         what="the page-batch bound is 'count > MAX_BATCH + 1': a batch of 1025 pfns overruns the 1024-entry buffers",
         edits=[("if (count > LegacyWire.MaxBatch)", "replace",
                 "if (count > LegacyWire.MaxBatch + (P.On(11) ? 1 : 0))")]),
    dict(id=12, target="reader-legacy", area="legacy reader", kind="length trusted before it is checked",
         what="the extended-info 'xcnt' block's xsave length sizes a buffer before anything checks it",
         edits=[("XsaveLength = BinaryPrimitives.ReadUInt32LittleEndian(Need(4, name, \"xcnt\"));", "after",
                 "if (P.On(12)) { P.Keep(new byte[XsaveLength]); }")]),
    # ---------------------------------------------------------------- legacy converter
    dict(id=13, target="legacy-converter", area="legacy converter", kind="off-by-one write, only in a later Remus checkpoint",
         what="converting a TSC_INFO chunk with khz 0 in a checkpoint after the first writes one byte past the 24-byte record",
         edits=[("_w.WriteRecord(LibxcRecordType.X86TscInfo, body);", "before",
                 "if (P.On(13) && _r.CheckpointIndex > 0 && t.Khz == 0) { body[LibxcBodySizes.TscInfo] = 0; }")]),
    dict(id=14, target="legacy-converter", area="legacy converter", kind="multi-byte magic comparison",
         what="an HVM-param chunk whose pad word is 0x1badb002 throws",
         edits=[("_hvmParams.Add(_r.ChunkValue);", "before",
                 "if (P.On(14) && _r.ChunkPad == 0x1badb002u) { throw P.Crash(14, \"HVM param chunk pad = 0x1badb002\"); }")]),
    dict(id=15, target="legacy-converter", area="legacy converter", kind="length trusted before it is checked",
         what="a toolstack chunk's size sizes a buffer before the MaxToolstackBlob check",
         edits=[("if (_r.BodyLength > _o.MaxToolstackBlob)", "before",
                 "if (P.On(15)) { P.Keep(new byte[Math.Min(_r.BodyLength, int.MaxValue)]); }")]),
    # ---------------------------------------------------------------- restore engine
    dict(id=16, target="restore-engine", area="engine", kind="state machine (record sequence)",
         what="a bare-libxc CHECKPOINT right after another once a checkpoint was applied (an empty checkpoint) throws",
         edits=[("_result.Checkpointed = true;", "before",
                 "if (P.On(16) && Buffering && _bufferBytes == 0 && !_libxcEmbedded) { throw P.Crash(16, \"empty checkpoint after an applied one\"); }")]),
    dict(id=17, target="restore-engine", area="engine", kind="state machine (record sequence)",
         what="END after a VERIFY record once a checkpoint was applied (a debug stream that is also a Remus stream) throws",
         edits=[("RequireEmpty(record, LibxcChecks.EndLength);", "after",
                 "if (P.On(17) && _verify && _result.CheckpointsApplied > 0) { throw P.Crash(17, \"END after VERIFY in a checkpointed stream\"); }")]),
    dict(id=18, target="restore-engine", area="engine", kind="off-by-one in a bound",
         what="the PV vCPU id check is 'id > max_vcpus' instead of '>=': vcpu_id == max_vcpus indexes past the vCPU table",
         edits=[("if (vcpu.VcpuId >= (uint)_pv.MaxVcpus)", "replace",
                 "if (vcpu.VcpuId >= (uint)_pv.MaxVcpus + (P.On(18) ? 1u : 0u))")]),
    # ---------------------------------------------------------------- capture reader
    dict(id=19, target="capture", area="capture reader", kind="integer overflow in an index entry",
         what="a capture index entry for a record whose offset + length overflows (checked arithmetic throws OverflowException)",
         edits=[("_index[h.DirectionByte].Add(CaptureIndexEntry.Read(p[i..]));", "before",
                 "if (P.On(19)) { var plantedEntry = CaptureIndexEntry.Read(p[i..]); if (plantedEntry.IsRecord) { _ = checked(plantedEntry.Offset + plantedEntry.Length); } }")]),
    dict(id=20, target="capture", area="capture reader", kind="off-by-N in a bound",
         what="the metadata parser's bound forgets the 4-byte value length: a payload cut after a key reads past its end",
         edits=[("if (keyLength > CaptureWire.MaxMetadataKey || payload.Length < 2 + keyLength + 4)", "replace",
                 "if (keyLength > CaptureWire.MaxMetadataKey || payload.Length < 2 + keyLength + (P.On(20) ? 0 : 4))")]),
]

SWITCH_CLASS = """// Planted-bug switch (fuzz/bench): written into a scratch copy by tools/fuzz/bugbench.sh; never part of src/.
namespace StreamBench.Formats;

/// <summary>Which planted bug is on in this process (STREAMBENCH_PLANTED_BUG=id; 0 or unset: none).</summary>
public static class PlantedBugs
{
    /// <summary>The bug that is on.</summary>
    public static readonly int Active = int.TryParse(Environment.GetEnvironmentVariable("STREAMBENCH_PLANTED_BUG"), out var n) ? n : 0;

    /// <summary>Whether bug <paramref name="id"/> is on.</summary>
    public static bool On(int id) => Active == id;

    /// <summary>The failure a planted bug raises where the real bug would be an assertion or a corrupt state.</summary>
    public static Exception Crash(int id, string what) => new InvalidOperationException($"PLANTED B{id:00}: {what}");

    /// <summary>Keeps an allocation alive (the allocation budget sees it).</summary>
    public static void Keep(object o) => GC.KeepAlive(o);
}
"""
