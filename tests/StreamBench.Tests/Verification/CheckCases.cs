using System.Buffers.Binary;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Verification;

/// <summary>
/// A stream with exactly one defect, the check that must report it, and where. <see cref="RejectedBy"/> is the set of
/// profiles whose verdict is "reject" (by default the check's profiles when it is an error, none for warnings and
/// infos); a case whose defect necessarily trips checks of other profiles too names them here.
/// </summary>
public sealed record DefectCase(string Check, Func<TestStream> Build)
{
    /// <summary>The profiles that report the check here (null: the check's profiles).</summary>
    public ProfileSet? ReportedBy { get; init; }

    /// <summary>The profiles that reject the stream (null: derived from the check).</summary>
    public ProfileSet? RejectedBy { get; init; }

    /// <summary>Expected absolute offset of the finding.</summary>
    public Func<TestStream, long>? Offset { get; init; }

    /// <summary>Expected record index of the finding (null: not asserted).</summary>
    public Func<TestStream, long>? Index { get; init; }

    /// <summary>Expected field.</summary>
    public string? Field { get; init; }

    /// <summary>Checkpoint mode to verify with.</summary>
    public CheckpointMode Mode { get; init; } = CheckpointMode.Auto;

    /// <summary>A custom run (for cases that need reader options), else the stream is verified from memory.</summary>
    public Func<TestStream, VerificationProfile, VerifyResult>? Run { get; init; }

    /// <summary>Distinguishes several cases of one check.</summary>
    public string Variant { get; init; } = "";

    /// <summary>The theory's key.</summary>
    public string Name => Variant.Length == 0 ? Check : Check + "/" + Variant;
}

/// <summary>One case per check (some checks have more).</summary>
public static class CheckCases
{
    private const ProfileSet RS = ProfileSet.RestoreAndStrict;
    private const ProfileSet All = ProfileSet.All;

    private static int I(TestStream s, LibxcRecordType t, int nth = 0) => s.Find(t, nth);

    private static int I(TestStream s, LibxlRecordType t, int nth = 0) => s.Find(t, nth);

    private static int I(TestStream s, PostcopyRecordType t, int nth = 0) => s.Find(t, nth);

    private static TestStream With(TestStream s, Action<TestStream> change)
    {
        change(s);
        return s;
    }

    private static byte[] Patched(byte[] body, int at, uint value)
    {
        var b = (byte[])body.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), value);
        return b;
    }

    // PAGE_DATA of pfn 0 (NOTAB) and pfn 1 (L1TAB) whose entry names pfn (present): finding XN-1's shape.
    private static byte[] PageTableNaming(ulong pfn, int entry)
    {
        var b = Bodies.PageData((0, PageType.NoTab), (1, PageType.L1Tab));
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + 16 + 4096 + (entry * 8)), (pfn << 12) | 1);
        return b;
    }

    private static DefectCase Rec(string check, Func<TestStream> build, Func<TestStream, int> part, long bodyDelta = -1, string? field = null)
        => new(check, build)
        {
            Offset = s => bodyDelta < 0 ? s.OffsetOf(part(s)) : s.BodyOffsetOf(part(s)) + bodyDelta,
            Index = s => s.RecordIndexOf(part(s)),
            Field = field,
        };

    private static DefectCase Hdr(string check, Func<TestStream> build, string header, long delta, string? field)
        => new(check, build) { Offset = s => s.OffsetOf(s.FindRaw(header)) + delta, Index = _ => -1, Field = field };

    /// <summary>All cases, keyed by <see cref="DefectCase.Name"/>.</summary>
    public static IReadOnlyDictionary<string, DefectCase> All_ { get; } = Build().ToDictionary(c => c.Name);

    private static IEnumerable<DefectCase> Build()
    {
        // ------------------------------------------------------------------ stream
        yield return new DefectCase("stream.truncated", () => With(TestStream.Hvm(), s =>
        {
            s.Remove(I(s, LibxcRecordType.End));
            s.Parts.Add(new StreamPart("CUT", [0, 0, 0, 0]));
        }))
        {
            Offset = s => s.Length - 4,
            Index = s => s.RecordIndexOf(s.Parts.Count - 1),
            Field = "type/length",
        };
        yield return new DefectCase("stream.truncated", () => With(TestStream.Hvm(), s =>
        {
            var i = I(s, LibxcRecordType.HvmContext);
            s[i].Body = s[i].Body[..100];
            s[i].LengthField = 1080;
            s.Parts.RemoveRange(i + 1, s.Parts.Count - i - 1);
        }))
        {
            Variant = "inside-body",
            Offset = s => s.OffsetOf(I(s, LibxcRecordType.HvmContext)),
            Index = s => s.RecordIndexOf(I(s, LibxcRecordType.HvmContext)),
        };
        yield return new DefectCase("stream.missing-end", () => With(TestStream.Hvm(), s => s.Remove(I(s, LibxcRecordType.End))))
        {
            Offset = s => s.Length,
            Index = _ => -1,
        };
        yield return new DefectCase("stream.failover", () => With(TestStream.HvmRemus(), s => s.Add(LibxcRecordType.PageData, Bodies.PageData(2))))
        {
            RejectedBy = ProfileSet.Xen, // verify-stream-v2: no END = truncated
            Offset = s => s.OffsetOf(s.Parts.Count - 1),
        };
        yield return new DefectCase("stream.failover", () => TestStream.HvmRemusLibxl())
        {
            Variant = "libxl",
            RejectedBy = ProfileSet.Xen,
            Offset = s => s.Length,
        };
        yield return new DefectCase("stream.failover", () => With(TestStream.HvmRemus(), s =>
        {
            s.Add(LibxcRecordType.PageData, Bodies.PageData(2));
            s[^1].Body = s[^1].Body[..100];
            s[^1].LengthField = 8 + 8 + 4096;
        }))
        {
            Variant = "mid-record",
            RejectedBy = ProfileSet.Xen,
            Offset = s => s.OffsetOf(s.Parts.Count - 1),
        };
        yield return new DefectCase("stream.failover-before-checkpoint", () => With(TestStream.HvmRemusLibxl(), s => s.Parts.RemoveRange(I(s, LibxlRecordType.CheckpointEnd), s.Parts.Count - I(s, LibxlRecordType.CheckpointEnd))))
        {
            Mode = CheckpointMode.Checkpointed,
            RejectedBy = All,
            Offset = s => s.Length,
        };
        yield return new DefectCase("stream.malformed", () => With(TestStream.Hvm(), s => s[I(s, LibxcRecordType.HvmContext)].Body = Bodies.HvmContext(4)))
        {
            RejectedBy = ProfileSet.Strict, // only strict reads the whole HVM_CONTEXT
            ReportedBy = ProfileSet.Strict,
            Run = (s, p) => Verifier.Verify(ByteSource.FromStream(new MemoryStream(s.Build()), bufferSize: 4096),
                VerifierOptions.Create(p, s.Format) with { Reader = new XenStreamReaderOptions { Format = s.Format, MaxBufferedBody = 1024 } }),
        };
        yield return new DefectCase("stream.legacy", () => new TestStream { Format = OuterFormat.Auto }.AddRaw("GARBAGE", [.. Enumerable.Repeat((byte)0x11, 64)]))
        {
            Offset = _ => 0,
        };
        yield return new DefectCase("stream.trailing-data", () => TestStream.Hvm().AddRaw("TRAILING", [1, 2, 3, 4, 5]))
        {
            Offset = s => s.OffsetOf(s.Parts.Count - 1),
        };
        yield return new DefectCase("stream.trailing-data-ignored", () => TestStream.Hvm().AddRaw("TRAILING", [1, 2, 3, 4, 5]))
        {
            RejectedBy = ProfileSet.Strict,
            Offset = s => s.OffsetOf(s.Parts.Count - 1),
        };
        yield return new DefectCase("stream.migrate-failed", () => new TestStream { Format = OuterFormat.MigrateReceiver }.AddRaw("RECEIVER", SyntheticStreams.MigrateReceiverSide(true, 1)))
        {
            Offset = s => s.Length - 1,
            Field = "result",
        };

        // ------------------------------------------------------------------ xl
        static TestStream Xl() => TestStream.Hvm().InLibxl().InXl();
        yield return Hdr("xl.magic", () => Xl().PatchRaw("XL_HEADER", b => b[3] ^= 0x20), "XL_HEADER", 0, "magic");
        yield return Hdr("xl.big-endian", () => Xl().PatchRaw("XL_HEADER", b =>
        {
            for (var at = 32; at < 48; at += 4)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)));
            }
        }), "XL_HEADER", 32, "byteorder");
        yield return Hdr("xl.byteorder", () => Xl().PatchRaw("XL_HEADER", b => b[32] = 5), "XL_HEADER", 32, "byteorder");
        yield return Hdr("xl.mandatory-flags", () => Xl().PatchRaw("XL_HEADER", b => b[36] |= 4), "XL_HEADER", 36, "mandatory_flags");
        yield return Hdr("xl.optional-data", () => Xl().PatchRaw("XL_HEADER", b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(48), 1000)), "XL_HEADER", 48, "config_size");
        yield return new DefectCase("xl.legacy-flag", () => TestStream.Hvm().InXl(XlMandatoryFlags.Json))
        {
            Offset = s => s.OffsetOf(s.FindRaw("IMAGE_HEADER")),
        };
        yield return Hdr("xl.optional-flags", () => Xl().PatchRaw("XL_HEADER", b => b[40] = 1), "XL_HEADER", 40, "optional_flags");
        yield return new DefectCase("xl.config-missing", () => With(Xl(), s => s.Parts[0].Raw = Bodies.XlHeader(XlMandatoryFlags.Json | XlMandatoryFlags.StreamV2, [], optionalData: [])))
        {
            Offset = _ => 44,
            Field = "optional_data_len",
        };

        // ------------------------------------------------------------------ libxl
        static TestStream L() => TestStream.Hvm().InLibxl();
        static TestStream Lpv() => TestStream.Pv().InLibxl();
        yield return Hdr("libxl.header.ident", () => L().PatchRaw("LIBXL_HEADER", b => b[0] ^= 1), "LIBXL_HEADER", 0, "ident");
        yield return Hdr("libxl.header.version", () => L().PatchRaw("LIBXL_HEADER", b => b[11] = 3), "LIBXL_HEADER", 8, "version");
        yield return Hdr("libxl.header.options", () => L().PatchRaw("LIBXL_HEADER", b => b[13] = 1), "LIBXL_HEADER", 12, "options"); // bit 16
        yield return Hdr("libxl.header.options", () => L().PatchRaw("LIBXL_HEADER", b => b[15] = 4), "LIBXL_HEADER", 12, "options") with { Variant = "bit2" };
        yield return Hdr("libxl.header.big-endian-ignored", () => L().PatchRaw("LIBXL_HEADER", b => b[15] = 1), "LIBXL_HEADER", 12, "options") with { RejectedBy = RS };
        yield return Hdr("libxl.header.big-endian", () => L().PatchRaw("LIBXL_HEADER", b => b[15] = 1), "LIBXL_HEADER", 12, "options");
        yield return Rec("libxl.record.unknown-type", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 7)), s => s.Parts.Count - 2, field: "type");
        yield return Rec("libxl.record.padding", () => With(L(), s =>
        {
            var i = I(s, LibxlRecordType.EmulatorContext);
            s[i].Body = Bodies.Emulator(2, 0, Bodies.Qevm(61));
            s[i].Padding = [0, 1, 0];
        }), s => I(s, LibxlRecordType.EmulatorContext), 69 + 1, "padding");
        yield return Rec("libxl.end.length", () => With(L(), s => s[^1].Body = new byte[8]), s => s.Parts.Count - 1, field: "length");
        yield return Rec("libxl.libxc-context.length", () => With(L(), s => s[I(s, LibxlRecordType.LibxcContext)].Body = new byte[8]), s => I(s, LibxlRecordType.LibxcContext), field: "length");
        yield return Rec("libxl.xenstore-data.too-short", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 2, new byte[4])), s => s.Parts.Count - 2, field: "length");
        yield return Rec("libxl.xenstore-data.emulator-id", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 2, Bodies.Emulator(3, 0, []))), s => s.Parts.Count - 2, 0, "emulator_id");
        yield return Rec("libxl.xenstore-data.framing", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 2, Bodies.Emulator(2, 0, "key\0value"u8.ToArray()))),
            s => s.Parts.Count - 2, 8 + 9 - 1, "data");
        yield return Rec("libxl.xenstore-data.framing", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 2, Bodies.Emulator(2, 0, Bodies.Xenstore("a", "b", "c")))),
            s => s.Parts.Count - 2, 8 + 4, "data") with { Variant = "odd" };
        yield return Rec("libxl.xenstore-data.key", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 2, Bodies.Emulator(2, 0, Bodies.Xenstore("physmap/1/size", "10", "/abs", "v")))),
            s => s.Parts.Count - 2, 8 + 18, "key");
        yield return Rec("libxl.xenstore-data.key", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 2, Bodies.Emulator(2, 0, Bodies.Xenstore("", "v")))),
            s => s.Parts.Count - 2, 8, "key") with { Variant = "empty" };
        yield return Rec("libxl.emulator-context.too-short", () => With(L(), s => s[I(s, LibxlRecordType.EmulatorContext)].Body = new byte[4]), s => I(s, LibxlRecordType.EmulatorContext), field: "length");
        yield return Rec("libxl.emulator-context.emulator-id", () => With(L(), s => s[I(s, LibxlRecordType.EmulatorContext)].Body = Bodies.Emulator(7, 0, Bodies.Qevm(64))),
            s => I(s, LibxlRecordType.EmulatorContext), 0, "emulator_id");
        yield return Rec("libxl.emulator.not-hvm", () => With(Lpv(), s => s.InsertLibxl(s.Parts.Count - 1, 3, Bodies.Emulator(2, 0, Bodies.Qevm(64)))), s => s.Parts.Count - 2);
        yield return Rec("libxl.checkpoint-end.length", () => With(TestStream.HvmRemusLibxl(), s => s[I(s, LibxlRecordType.CheckpointEnd)].Body = new byte[8]),
            s => I(s, LibxlRecordType.CheckpointEnd), field: "length");
        yield return Rec("libxl.checkpoint-end.unexpected", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 4)), s => s.Parts.Count - 2);
        yield return Rec("libxl.checkpoint-state.empty", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 5)), s => s.Parts.Count - 2, field: "length") with { RejectedBy = All };
        yield return Rec("libxl.checkpoint-state.too-short", () => TestStream.BackChannel(StreamDialect.Upstream, (5, [1, 0])), _ => 0, field: "length");
        yield return Rec("libxl.checkpoint-state.control-id", () => TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(9))), _ => 0, 0, "control_id");
        yield return Rec("libxl.checkpoint-state.unexpected", () => With(L(), s => s.InsertLibxl(s.Parts.Count - 1, 5, Bodies.U32(0))), s => s.Parts.Count - 2);
        yield return Rec("libxl.checkpoint-state.colo-main", () => With(TestStream.HvmRemusLibxl(), s =>
            s.InsertLibxl(I(s, LibxlRecordType.CheckpointEnd) + 1, 5, Bodies.U32(1))), s => I(s, LibxlRecordType.CheckpointEnd) + 1, 0, "control_id") with
        {
            Mode = CheckpointMode.Checkpointed,
            RejectedBy = ProfileSet.Xen | ProfileSet.Strict, // xen: verify-stream-v2 always wants END
            Run = (s, p) => Verifier.Verify(s.Build(), VerifierOptions.Create(p, s.Format, checkpoints: CheckpointMode.Checkpointed) with
            {
                Reader = new XenStreamReaderOptions { Format = s.Format, Colo = true },
            }),
        };
        yield return Rec("libxl.tail.record", () => With(TestStream.HvmRemusLibxl(), s =>
        {
            var i = I(s, LibxlRecordType.CheckpointEnd);
            s[i].Type = (uint)LibxlRecordType.End;
            s.Parts.RemoveRange(i + 1, s.Parts.Count - i - 1);
        }), s => I(s, LibxlRecordType.End)) with { Mode = CheckpointMode.Checkpointed };
        yield return Rec("libxl.postcopy-transition-end.length", () => With(TestStream.Postcopy(libxl: true), s => s[s.Find(StreamLayer.Libxl, 6)].Body = new byte[8]),
            s => s.Find(StreamLayer.Libxl, 6), field: "length");
        yield return Rec("libxl.postcopy-transition-end.unexpected", () => With(TestStream.Postcopy(libxl: true), s => s.InsertLibxl(s.Parts.Count - 1, 6)), s => s.Parts.Count - 2);
        yield return Rec("libxl.order.libxc-context-first", () => With(L(), s => s.InsertLibxl(1, 3, Bodies.Emulator(2, 0, Bodies.Qevm(64)))), _ => 1);
        yield return Rec("libxl.libxc-context.duplicate", () => With(L(), s =>
        {
            var again = TestStream.Hvm().Parts;
            s.Parts.InsertRange(s.Parts.Count - 1, [new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.LibxcContext, []), .. again]);
        }), s => I(s, LibxlRecordType.LibxcContext, 1));
        yield return Rec("libxl.libxc-context.missing", () => With(L(), s => s.Parts.RemoveRange(1, s.Parts.Count - 2)), s => s.Parts.Count - 1);

        // ------------------------------------------------------------------ libxc headers
        static TestStream H() => TestStream.Hvm();
        static TestStream P() => TestStream.Pv();
        yield return Hdr("libxc.image.marker", () => H().PatchRaw("IMAGE_HEADER", b => b[7] = 0xFE), "IMAGE_HEADER", 0, "marker");
        yield return Hdr("libxc.image.id", () => H().PatchRaw("IMAGE_HEADER", b => b[11] = (byte)'G'), "IMAGE_HEADER", 8, "id");
        yield return Hdr("libxc.image.version", () => H().PatchRaw("IMAGE_HEADER", b => b[15] = 4), "IMAGE_HEADER", 12, "version");
        yield return Hdr("libxc.image.options", () => H().PatchRaw("IMAGE_HEADER", b => b[17] = 2), "IMAGE_HEADER", 16, "options");
        yield return Hdr("libxc.image.reserved", () => H().PatchRaw("IMAGE_HEADER", b => b[19] = 1), "IMAGE_HEADER", 18, "reserved1");
        yield return Hdr("libxc.image.reserved", () => H().PatchRaw("IMAGE_HEADER", b => b[23] = 1), "IMAGE_HEADER", 20, "reserved2") with { Variant = "u32" };
        yield return Hdr("libxc.image.big-endian-ignored", () => H().PatchRaw("IMAGE_HEADER", b => b[17] = 1), "IMAGE_HEADER", 16, "options") with { RejectedBy = RS };
        yield return Hdr("libxc.image.big-endian", () => H().PatchRaw("IMAGE_HEADER", b => b[17] = 1), "IMAGE_HEADER", 16, "options");
        yield return Hdr("libxc.image.rfc-version", () => TestStream.Postcopy().PatchRaw("IMAGE_HEADER", b => b[15] = 3), "IMAGE_HEADER", 12, "version");
        yield return Hdr("libxc.domain.type", () => H().PatchRaw("DOMAIN_HEADER", b => b[0] = 3), "DOMAIN_HEADER", 0, "type");
        yield return Hdr("libxc.domain.reserved", () => H().PatchRaw("DOMAIN_HEADER", b => b[6] = 1), "DOMAIN_HEADER", 6, "reserved");
        yield return Hdr("libxc.domain.page-shift", () => H().PatchRaw("DOMAIN_HEADER", b => b[4] = 13), "DOMAIN_HEADER", 4, "page_shift");

        // ------------------------------------------------------------------ libxc records
        yield return Rec("libxc.record.unknown-type", () => With(H(), s => s.InsertLibxc(s.Parts.Count - 1, 0x8000_0000u, new byte[8])), s => s.Parts.Count - 2, field: "type");
        yield return Rec("libxc.record.unknown-optional", () => With(H(), s => s.InsertLibxc(s.Parts.Count - 1, 0x8000_0000u, new byte[8])), s => s.Parts.Count - 2, field: "type")
            with { RejectedBy = ProfileSet.Xen };
        yield return Rec("libxc.record.unknown-mandatory", () => With(H(), s => s.InsertLibxc(s.Parts.Count - 1, 0x13u)), s => s.Parts.Count - 2, field: "type") with { RejectedBy = All };
        yield return Rec("libxc.record.length-max", () => With(TestStream.Postcopy(), s =>
        {
            var i = I(s, LibxcRecordType.HvmContext);
            var big = new byte[(8 << 20) + 8];
            Bodies.HvmContext(1).CopyTo(big, 0);
            s[i].Body = big;
        }), s => I(s, LibxcRecordType.HvmContext), field: "length");
        yield return Rec("libxc.record.padding", () => With(P(), s =>
        {
            var i = I(s, LibxcRecordType.X86PvVcpuExtended);
            s[i].Body = Bodies.Vcpu(0, 13);
            s[i].Padding = [0, 0, 7];
        }), s => I(s, LibxcRecordType.X86PvVcpuExtended), 21 + 2, "padding");
        yield return Rec("libxc.record.guest-type", () => With(H(), s => s.InsertLibxc(s.Parts.Count - 1, LibxcRecordType.X86TscInfo - 1, new byte[4096])), s => s.Parts.Count - 2);
        yield return Rec("libxc.end.length", () => With(H(), s => s[^1].Body = new byte[8]), s => s.Parts.Count - 1, field: "length");
        yield return Rec("libxc.verify.length", () => With(H(), s => s.InsertLibxc(I(s, LibxcRecordType.X86TscInfo), LibxcRecordType.Verify, new byte[8])),
            s => I(s, LibxcRecordType.Verify), field: "length");
        yield return Rec("libxc.checkpoint.length", () => With(TestStream.HvmRemus(), s => s[I(s, LibxcRecordType.Checkpoint)].Body = new byte[8]),
            s => I(s, LibxcRecordType.Checkpoint), field: "length") with { Mode = CheckpointMode.Checkpointed, RejectedBy = All };
        yield return Rec("libxc.checkpoint.plain-stream", () => With(H(), s => s.InsertLibxc(s.Parts.Count - 1, LibxcRecordType.Checkpoint)), s => s.Parts.Count - 2)
            with { Mode = CheckpointMode.Plain };
        yield return Rec("libxc.checkpoint.plain-stream", () => With(L(), s =>
        {
            // Auto: a libxl stream with CHECKPOINT but never a CHECKPOINT_END is plain; reported at the end.
            var end = I(s, LibxcRecordType.End);
            s.InsertLibxc(end, LibxcRecordType.Checkpoint);
            s.Parts.Insert(end + 1, new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.EmulatorContext, Bodies.Emulator(2, 0, Bodies.Qevm(64))));
            s.Parts.RemoveRange(end + 2, s.Parts.Count - end - 2);
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.End, []));
        }), s => I(s, LibxcRecordType.Checkpoint)) with { Variant = "auto-libxl", RejectedBy = RS };

        // PAGE_DATA
        static int Pd(TestStream s) => s.Find(LibxcRecordType.PageData);
        yield return Rec("libxc.page-data.too-short", () => With(H(), s => s[Pd(s)].Body = new byte[8]), Pd, field: "length");
        yield return Rec("libxc.page-data.reserved", () => With(H(), s => s[Pd(s)].Body = Patched(s[Pd(s)].Body, 4, 1)), Pd, 4, "reserved");
        yield return Rec("libxc.page-data.pfn-words", () => With(H(), s => s[Pd(s)].Body = Patched(s[Pd(s)].Body, 0, 0xFFFF)), Pd, 0, "count");
        yield return Rec("libxc.page-data.pfn-reserved", () => With(H(), s => s[Pd(s)].Body[8 + 16 + 6] = 0x80), Pd, 8 + 16, "pfn[2]");
        yield return Rec("libxc.page-data.pfn-type", () => With(H(), s => s[Pd(s)].Body = Bodies.PageData((0, PageType.NoTab), (1, PageType.Invalid5))), Pd, 16, "pfn[1]");
        yield return Rec("libxc.page-data.length", () => With(H(), s => s[Pd(s)].Body = [.. s[Pd(s)].Body, .. new byte[8]]), Pd, field: "length");
        yield return Rec("libxc.page-data.length", () => With(H(), s => s[Pd(s)].Body = Bodies.PfnList(0)), Pd, field: "length") with { Variant = "no-page" };
        yield return Rec("libxc.page-data.pfn-range", () => With(P(), s => s[Pd(s)].Body = Bodies.PageData(0, 1, 2, 0x400)), Pd, 8 + 24, "pfn[3]");
        yield return Rec("libxc.page-data.pte-pfn", () => With(P(), s => s[Pd(s)].Body = PageTableNaming(0x400, entry: 5)), Pd, 8 + 16 + 4096 + (5 * 8), "page[1].L1[5]");
        yield return Rec("libxc.page-data.no-static-data-end", () => With(H(), s => s.Remove(I(s, LibxcRecordType.StaticDataEnd))), Pd);
        yield return Rec("libxc.page-data.batch-size", () => With(H(), s => s[Pd(s)].Body = Bodies.PageData([.. Enumerable.Range(0, 1025).Select(i => ((ulong)i, PageType.XTab))])),
            Pd, 0, "count");
        yield return Rec("libxc.page-data.duplicate-pfn", () => With(H(), s => s[Pd(s)].Body = Bodies.PageData(0, 1, 2, 1)), Pd, 8 + 24, "pfn[3]");
        yield return Rec("libxc.page-data.before-p2m", () => With(P(), s =>
        {
            var p2m = s[I(s, LibxcRecordType.X86PvP2mFrames)];
            s.Parts.Remove(p2m);
            s.Parts.Insert(Pd(s) + 1, p2m);
        }), Pd);

        // PV
        static int Info(TestStream s) => s.Find(LibxcRecordType.X86PvInfo);
        static int P2m(TestStream s) => s.Find(LibxcRecordType.X86PvP2mFrames);
        yield return Rec("libxc.pv-info.length", () => With(P(), s => s[Info(s)].Body = new byte[16]), Info, field: "length");
        yield return Rec("libxc.pv-info.width", () => With(P(), s => s[Info(s)].Body = Bodies.PvInfo(6, 4)), Info, 0, "guest_width");
        yield return Rec("libxc.pv-info.levels", () => With(P(), s => s[Info(s)].Body = Bodies.PvInfo(8, 2)), Info, 1, "pt_levels");
        yield return Rec("libxc.pv-info.reserved", () => With(P(), s => s[Info(s)].Body[5] = 1), Info, 4, "reserved");
        yield return Rec("libxc.pv-info.combination", () => With(P(), s => s[Info(s)].Body = Bodies.PvInfo(4, 4)), Info, 0, "guest_width/pt_levels");
        yield return Rec("libxc.pv-info.duplicate", () => With(P(), s => s.InsertLibxc(Info(s) + 1, LibxcRecordType.X86PvInfo, Bodies.PvInfo())), s => Info(s) + 1);
        yield return Rec("libxc.p2m-frames.length", () => With(P(), s => s[P2m(s)].Body = new byte[12]), P2m, field: "length");
        yield return Rec("libxc.p2m-frames.no-pv-info", () => With(P(), s => s.Remove(Info(s))), P2m);
        yield return Rec("libxc.p2m-frames.no-static-data-end", () => With(P(), s =>
        {
            var sde = s[I(s, LibxcRecordType.StaticDataEnd)];
            s.Parts.Remove(sde);
            s.Parts.Insert(P2m(s) + 1, sde);
        }), P2m);
        yield return Rec("libxc.p2m-frames.range", () => With(P(), s => s[P2m(s)].Body = Patched(s[P2m(s)].Body, 0, 0x400)), P2m, 0, "start_pfn");
        yield return Rec("libxc.p2m-frames.frame-count", () => With(P(), s => s[P2m(s)].Body = Bodies.P2mFrames(0, 0x3FF, 8, frames: 3)), P2m, field: "length");
        static int Ext(TestStream s) => s.Find(LibxcRecordType.X86PvVcpuExtended);
        static int Basic(TestStream s) => s.Find(LibxcRecordType.X86PvVcpuBasic);
        yield return Rec("libxc.vcpu.too-short", () => With(P(), s => s[Ext(s)].Body = new byte[4]), Ext, field: "length");
        yield return Rec("libxc.vcpu.reserved", () => With(P(), s => s[Ext(s)].Body = Bodies.Vcpu(0, 16, reserved: 1)), Ext, 4, "reserved");
        yield return Rec("libxc.vcpu.empty", () => With(P(), s => s[Ext(s)].Body = Bodies.Vcpu(0, 0)), Ext, field: "length");
        yield return Rec("libxc.vcpu.basic-size", () => With(P(), s => s[Basic(s)].Body = Bodies.Vcpu(0, 5000)), Basic, field: "length") with { RejectedBy = RS };
        yield return Rec("libxc.vcpu.extended-size", () => With(P(), s => s[Ext(s)].Body = Bodies.Vcpu(0, 136)), Ext, field: "length");
        yield return Rec("libxc.vcpu.xsave-size", () => With(P(), s => s.InsertLibxc(Ext(s) + 1, LibxcRecordType.X86PvVcpuXsave, Bodies.Vcpu(0, 8))),
            s => s.Find(LibxcRecordType.X86PvVcpuXsave), field: "length");
        yield return Rec("libxc.vcpu.msrs-size", () => With(P(), s => s.InsertLibxc(Ext(s) + 1, LibxcRecordType.X86PvVcpuMsrs, Bodies.Vcpu(0, 20))),
            s => s.Find(LibxcRecordType.X86PvVcpuMsrs), field: "length");
        yield return Rec("libxc.vcpu.msr-reserved", () => With(P(), s => s.InsertLibxc(Ext(s) + 1, LibxcRecordType.X86PvVcpuMsrs, Patched(Bodies.Vcpu(0, 32), 8 + 16 + 4, 1))),
            s => s.Find(LibxcRecordType.X86PvVcpuMsrs), 8 + 16 + 4, "msr[1].reserved");
        yield return Rec("libxc.vcpu.before-page-data", () => With(P(), s => s.InsertLibxc(Pd(s), LibxcRecordType.X86PvVcpuExtended, Bodies.Vcpu(1, 16))), Ext);
        yield return Rec("libxc.vcpu.vcpu0-basic-missing", () => With(P(), s => s.Remove(Basic(s))), s => s.Parts.Count - 1);
        static int Shared(TestStream s) => s.Find(LibxcRecordType.SharedInfo);
        yield return Rec("libxc.shared-info.length", () => With(P(), s => s[Shared(s)].Body = new byte[4095]), Shared, field: "length");
        yield return Rec("libxc.shared-info.no-pv-info", () => With(P(), s => s.InsertLibxc(Info(s), LibxcRecordType.SharedInfo, new byte[4096])), Shared);

        // x86 / HVM
        static int Tsc(TestStream s) => s.Find(LibxcRecordType.X86TscInfo);
        static int Ctx(TestStream s) => s.Find(LibxcRecordType.HvmContext);
        static int Params(TestStream s) => s.Find(LibxcRecordType.HvmParams);
        yield return Rec("libxc.tsc-info.length", () => With(H(), s => s[Tsc(s)].Body = new byte[16]), Tsc, field: "length");
        yield return Rec("libxc.tsc-info.reserved", () => With(H(), s => s[Tsc(s)].Body = Bodies.TscInfo(reserved: 1)), Tsc, 20, "reserved");
        yield return Rec("libxc.tsc-info.mode", () => With(H(), s => s[Tsc(s)].Body = Bodies.TscInfo(mode: 7)), Tsc, 0, "mode");
        yield return Rec("libxc.tsc-info.khz", () => With(H(), s => s[Tsc(s)].Body = Bodies.TscInfo(khz: 1)), Tsc, 4, "khz");
        yield return Rec("libxc.hvm-context.empty", () => With(H(), s => s[Ctx(s)].Body = []), Ctx, field: "length") with { RejectedBy = All };
        yield return Rec("libxc.hvm-context.header", () => With(H(), s => s[Ctx(s)].Body = Bodies.HvmContext(1, magic: 0x12345678)), Ctx, 8, "magic");
        yield return Rec("libxc.hvm-context.header", () => With(H(), s => s[Ctx(s)].Body = Bodies.HvmContext(1, version: 2)), Ctx, 12, "version") with { Variant = "version" };
        yield return Rec("libxc.hvm-context.header", () => With(H(), s => s[Ctx(s)].Body = Bodies.HvmContext(1)[32..]), Ctx, 0, "typecode") with { Variant = "first" };
        yield return Rec("libxc.hvm-context.bounds", () => With(H(), s => s[Ctx(s)].Body = Patched(Bodies.HvmContext(1), 32 + 4, 5000)), Ctx, 32, "length");
        yield return Rec("libxc.hvm-context.end", () => With(H(), s => s[Ctx(s)].Body = Bodies.HvmContext(1)[..^8]), Ctx, 1072);
        yield return Rec("libxc.hvm-context.end", () => With(H(), s => s[Ctx(s)].Body = [.. Bodies.HvmContext(1), .. new byte[8]]), Ctx, 1080) with { Variant = "trailing" };
        yield return Rec("libxc.hvm-params.too-short", () => With(H(), s => s[Params(s)].Body = new byte[4]), Params, field: "length");
        yield return Rec("libxc.hvm-params.reserved", () => With(H(), s => s[Params(s)].Body = Bodies.HvmParams(1, (1, 2))), Params, 4, "reserved");
        yield return Rec("libxc.hvm-params.length", () => With(H(), s => s[Params(s)].Body = Patched(Bodies.HvmParams((1, 2), (3, 4), (5, 6)), 0, 2)), Params, field: "length");
        yield return Rec("libxc.hvm-params.empty", () => With(H(), s => s[Params(s)].Body = Bodies.HvmParams()), Params, 0, "count");
        yield return Rec("libxc.hvm.before-page-data", () => With(H(), s =>
        {
            var p = s[Params(s)];
            s.Parts.Remove(p);
            s.Parts.Insert(Pd(s), p);
        }), Params);
        yield return Rec("libxc.toolstack", () => With(H(), s => s.InsertLibxc(s.Parts.Count - 1, LibxcRecordType.Toolstack, new byte[8])), s => s.Parts.Count - 2);
        yield return Rec("libxc.checkpoint-dirty-pfn-list.forward", () => With(H(), s => s.InsertLibxc(s.Parts.Count - 1, LibxcRecordType.CheckpointDirtyPfnList, new byte[8])),
            s => s.Parts.Count - 2);
        static int Sde(TestStream s) => s.Find(LibxcRecordType.StaticDataEnd);
        yield return Rec("libxc.static-data-end.length", () => With(H(), s => s[Sde(s)].Body = new byte[8]), Sde, field: "length");
        yield return Rec("libxc.static-data-end.v2", () => With(TestStream.Hvm(2), s => s.InsertLibxc(Pd(s), LibxcRecordType.StaticDataEnd)), Sde);
        yield return Rec("libxc.static-data-end.duplicate", () => With(H(), s => s.InsertLibxc(Sde(s) + 1, LibxcRecordType.StaticDataEnd)), s => Sde(s) + 1);
        yield return Rec("libxc.static-data-end.missing", () => With(H(), s => s.Remove(Sde(s))), s => s.Parts.Count - 1) with { RejectedBy = RS };
        yield return Rec("libxc.cpuid-policy.v2", () => With(TestStream.Hvm(2), s => s.InsertLibxc(Pd(s), LibxcRecordType.X86CpuidPolicy, Bodies.CpuidPolicy(1))),
            s => s.Find(LibxcRecordType.X86CpuidPolicy));
        yield return Rec("libxc.cpuid-policy.length", () => With(H(), s => s[s.Find(LibxcRecordType.X86CpuidPolicy)].Body = new byte[30]),
            s => s.Find(LibxcRecordType.X86CpuidPolicy), field: "length");
        yield return Rec("libxc.msr-policy.v2", () => With(TestStream.Hvm(2), s => s.InsertLibxc(Pd(s), LibxcRecordType.X86MsrPolicy, Bodies.MsrPolicy(1))),
            s => s.Find(LibxcRecordType.X86MsrPolicy));
        yield return Rec("libxc.msr-policy.length", () => With(H(), s => s[s.Find(LibxcRecordType.X86MsrPolicy)].Body = new byte[20]),
            s => s.Find(LibxcRecordType.X86MsrPolicy), field: "length");
        yield return Rec("libxc.msr-policy.flags", () => With(H(), s => s[s.Find(LibxcRecordType.X86MsrPolicy)].Body = Bodies.MsrPolicy(1, flags: 1)),
            s => s.Find(LibxcRecordType.X86MsrPolicy), 4, "msr[0].flags");
        yield return Rec("libxc.policy.after-static-data-end", () => With(H(), s =>
        {
            var cpuid = s[s.Find(LibxcRecordType.X86CpuidPolicy)];
            s.Parts.Remove(cpuid);
            s.Parts.Insert(Sde(s) + 1, cpuid);
        }), s => s.Find(LibxcRecordType.X86CpuidPolicy));
        yield return Rec("libxc.required.page-data", () => With(H(), s =>
        {
            s.Remove(Pd(s));
            s.Remove(Pd(s));
        }), s => s.Parts.Count - 1);
        yield return Rec("libxc.required.pv-info", () => With(P(), s => s.Remove(Info(s))), s => s.Parts.Count - 1) with { RejectedBy = RS };
        yield return Rec("libxc.required.p2m-frames", () => With(P(), s => s.Remove(P2m(s))), s => s.Parts.Count - 1);
        yield return Rec("libxc.required.hvm-context", () => With(H(), s => s.Remove(Ctx(s))), s => s.Parts.Count - 1);
        yield return Rec("libxc.required.hvm-params", () => With(H(), s => s.Remove(Params(s))), s => s.Parts.Count - 1);

        // ------------------------------------------------------------------ post-copy RFC
        static TestStream Pc() => TestStream.Postcopy();
        yield return Rec("postcopy.begin.length", () => With(Pc(), s => s[I(s, PostcopyRecordType.PostcopyBegin)].Body = new byte[8]),
            s => I(s, PostcopyRecordType.PostcopyBegin), field: "length");
        yield return Rec("postcopy.pfns-begin.length", () => With(Pc(), s => s[I(s, PostcopyRecordType.PostcopyPfnsBegin)].Body = new byte[8]),
            s => I(s, PostcopyRecordType.PostcopyPfnsBegin), field: "length");
        yield return Rec("postcopy.transition.length", () => With(Pc(), s => s[I(s, PostcopyRecordType.PostcopyTransition)].Body = new byte[8]),
            s => I(s, PostcopyRecordType.PostcopyTransition), field: "length");
        yield return Rec("postcopy.complete.length", () => TestStream.BackChannel(StreamDialect.PostcopyRfc, (0x16, new byte[8])), _ => 0, field: "length");
        yield return Rec("postcopy.page-data.type", () => With(Pc(), s =>
        {
            s[I(s, PostcopyRecordType.PostcopyPageData)].Body = Bodies.PageData((2, PageType.NoTab), (3, PageType.XTab));
        }), s => I(s, PostcopyRecordType.PostcopyPageData), 16, "pfn[1]");
        yield return Rec("postcopy.fault.type-bits", () => TestStream.BackChannel(StreamDialect.PostcopyRfc, (0x15, Bodies.PfnList(1ul << 60))), _ => 0, 8, "pfn");
        yield return Rec("postcopy.back-channel-only", () => With(Pc(), s => s.InsertLibxc(s.Parts.Count - 1, 0x15u, Bodies.PfnList(2))), s => s.Parts.Count - 2);
        yield return Rec("postcopy.order.begin", () => With(Pc(), s => s.InsertLibxc(I(s, PostcopyRecordType.PostcopyBegin) + 1, 0x10u)),
            s => I(s, PostcopyRecordType.PostcopyBegin, 1));
        yield return Rec("postcopy.order.pfns-begin", () => With(Pc(), s => s.InsertLibxc(I(s, PostcopyRecordType.PostcopyPfnsBegin) + 1, 0x11u)),
            s => I(s, PostcopyRecordType.PostcopyPfnsBegin, 1));
        yield return Rec("postcopy.order.pfns", () => With(Pc(), s => s.InsertLibxc(I(s, PostcopyRecordType.PostcopyPfnsBegin), 0x12u, Bodies.PfnList(7))),
            s => I(s, PostcopyRecordType.PostcopyPfns));
        yield return Rec("postcopy.order.transition", () => With(Pc(), s => s.InsertLibxc(I(s, PostcopyRecordType.PostcopyPageData), 0x13u)),
            s => I(s, PostcopyRecordType.PostcopyTransition, 1));
        yield return Rec("postcopy.order.page-data", () => With(Pc(), s => s.InsertLibxc(I(s, PostcopyRecordType.PostcopyTransition), 0x14u, Bodies.PageData(2))),
            s => I(s, PostcopyRecordType.PostcopyPageData));
        yield return Rec("postcopy.order.phase-record", () => With(Pc(), s => s.InsertLibxc(I(s, PostcopyRecordType.PostcopyBegin) + 1, LibxcRecordType.PageData, Bodies.PageData(9))),
            s => I(s, PostcopyRecordType.PostcopyBegin) + 1);
        yield return Rec("postcopy.order.incomplete", () => With(Pc(), s =>
        {
            s.Remove(I(s, PostcopyRecordType.PostcopyTransition));
            s.Remove(I(s, PostcopyRecordType.PostcopyPageData));
        }), s => s.Parts.Count - 1);
        yield return Rec("postcopy.page-data.unannounced", () => With(Pc(), s => s[I(s, PostcopyRecordType.PostcopyPageData)].Body = Bodies.PageData(2, 9)),
            s => I(s, PostcopyRecordType.PostcopyPageData), 16, "pfn[1]");
        yield return new DefectCase("postcopy.page-data.tracking-limit", () => With(Pc(), s =>
        {
            var at = I(s, PostcopyRecordType.PostcopyTransition);
            for (var r = 0; r < 9; r++)
            {
                var words = Enumerable.Range(r * 1000, 1000).Select(i => PageWord.Make((ulong)i * 4096 + 4, PageType.NoTab)).ToArray();
                s.InsertLibxc(at++, 0x12u, Bodies.PfnList(words));
            }
        }));

        // ------------------------------------------------------------------ back channel
        yield return Rec("back-channel.record-type", () => TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(1)), (1, new byte[8])), _ => 1, field: "type");
        yield return Rec("back-channel.record-type", () => TestStream.BackChannel(StreamDialect.Upstream, (0x15, Bodies.PfnList(1))), _ => 0, field: "type") with { Variant = "rfc-in-upstream" };
        yield return Rec("back-channel.dirty-pfn-list.length", () => TestStream.BackChannel(StreamDialect.Upstream, (0xF, new byte[12])), _ => 0, field: "length");
        yield return Rec("back-channel.colo.order", () => TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(2)), (5, Bodies.U32(3)), (0xF, new byte[8])), _ => 2, field: "type");
        yield return Rec("back-channel.colo.order", () => TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(2)), (5, Bodies.U32(3)), (5, Bodies.U32(3))), _ => 2, field: "type") with { Variant = "resumed-twice" };
        yield return Rec("back-channel.colo.order", () => TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(1))), _ => 0, field: "type") with { Variant = "suspended-first" };
        yield return Rec("back-channel.colo.checkpoint-new", () => TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(2)), (5, Bodies.U32(0))), _ => 1, field: "control_id");
        yield return Rec("back-channel.padding", () => With(TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(1))), s => s[0].Padding = [0, 0, 1, 0]), _ => 0, 4 + 2, "padding");
    }
}
