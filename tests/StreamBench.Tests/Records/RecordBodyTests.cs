using System.Buffers.Binary;
using StreamBench.Formats.Records;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Verification;
using Xunit;
using StreamBench.X86;

namespace StreamBench.Tests.Records;

/// <summary>One test per record body decoder: fields come from the right offsets; short input is refused, not read past.</summary>
public sealed class RecordBodyTests
{
    [Fact]
    public void PageData_splits_words_into_type_and_pfn_and_counts_data_pages_from_the_prefix_alone()
    {
        var body = Bodies.PageData((0x10, PageType.NoTab), (0x11, PageType.L1TabPinned), (0x12, PageType.XTab), (0x13, PageType.XAlloc), (0x14, PageType.L4Tab));
        var prefix = body.AsSpan(0, (int)PageDataBody.PrefixLength(5));
        Assert.True(PageDataBody.TryParse(prefix, out var pd));
        Assert.Equal(5u, pd.Count);
        Assert.Equal(0u, pd.Reserved);
        Assert.Equal(5, pd.AvailableWords);
        Assert.Equal(0x11ul, pd.Pfn(1));
        Assert.Equal(PageType.L1TabPinned, pd.Type(1));
        var stats = pd.Scan();
        Assert.Equal(3, stats.DataPages);
        Assert.Equal(1, stats.Types[(int)PageType.XTab]);
        Assert.Equal(0x10ul, stats.MinPfn);
        Assert.Equal(0x14ul, stats.MaxPfn);
        Assert.True(stats.StrictlyIncreasing);
        Assert.Equal(body.Length, PageDataBody.ExpectedLength(5, 3));
        Assert.Equal(16, PageDataBody.WordOffset(1));
    }

    [Fact]
    public void PageData_scan_finds_reserved_bits_invalid_types_and_disorder()
    {
        var words = new[] { PageWord.Make(5, PageType.NoTab), PageWord.Make(3, PageType.Invalid6), PageWord.Make(9, PageType.NoTab) | (1ul << 55) };
        var body = Bodies.PfnList(words);
        Assert.True(PageDataBody.TryParse(body, out var pd));
        var stats = pd.Scan();
        Assert.Equal(1, stats.InvalidTypes);
        Assert.Equal(1, stats.FirstInvalidTypeIndex);
        Assert.Equal(1, stats.ReservedBitsSet);
        Assert.Equal(2, stats.FirstReservedIndex);
        Assert.False(stats.StrictlyIncreasing);
        Assert.Equal(2, stats.DataPages);
    }

    [Fact]
    public void PageData_with_a_short_prefix_exposes_only_the_words_present()
    {
        var body = Bodies.PageData(1, 2, 3);
        Assert.True(PageDataBody.TryParse(body.AsSpan(0, 8 + 12), out var pd));
        Assert.Equal(3u, pd.Count);
        Assert.Equal(1, pd.AvailableWords);
        Assert.False(PageDataBody.TryParse(body.AsSpan(0, 7), out _));
    }

    [Fact]
    public void X86PvInfo_decodes_width_levels_and_reserved()
    {
        Assert.True(X86PvInfoBody.TryParse([4, 3, 0, 0, 0, 0, 0, 1], out var info));
        Assert.Equal(4, info.GuestWidth);
        Assert.Equal(3, info.PtLevels);
        Assert.Equal(0x0100_0000u, info.Reserved2);
        Assert.True(info.IsValidCombination);
        Assert.True(X86PvInfoBody.TryParse(Bodies.PvInfo(4, 4), out var bad));
        Assert.False(bad.IsValidCombination);
        Assert.False(X86PvInfoBody.TryParse(new byte[7], out _));
    }

    [Fact]
    public void P2mFrames_decodes_range_frames_and_the_exact_length_rule()
    {
        var body = Bodies.P2mFrames(0x200, 0xBFF, 8);
        Assert.True(P2mFramesBody.TryParse(body, out var p2m));
        Assert.Equal(0x200u, p2m.StartPfn);
        Assert.Equal(0xBFFu, p2m.EndPfn);
        Assert.Equal(5, p2m.FrameCount); // 0x200/512 = 1 .. 0xBFF/512 = 5
        Assert.Equal(0x2000ul, p2m.Frame(0));
        Assert.Equal(body.Length, P2mFramesBody.ExpectedLength(0x200, 0xBFF, 8));
        Assert.Equal(8 + 8, P2mFramesBody.ExpectedLength(0, 1023, 4));
    }

    [Fact]
    public void PvVcpu_decodes_header_blob_xsave_and_msrs()
    {
        var body = Bodies.Vcpu(3, 32, reserved: 0);
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8), 0x7);
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(16), 0x207);
        Assert.True(PvVcpuBody.TryParse(body, out var v));
        Assert.Equal(3u, v.VcpuId);
        Assert.Equal(32, v.Blob.Length);
        Assert.Equal(0x7ul, v.XsaveXcr0);
        Assert.Equal(0x207ul, v.XsaveXcr0Accum);
        Assert.Equal(2, v.MsrCount);
        Assert.Equal(new VcpuMsrEntry(7, 0, 0x207), v.Msr(0) with { Value = 0x207 });
        Assert.False(PvVcpuBody.TryParse(new byte[4], out _));
    }

    [Fact]
    public void SharedInfo_is_exactly_one_page()
    {
        Assert.True(SharedInfoBody.TryParse(new byte[4096], out var s));
        Assert.Equal(4096, s.Page.Length);
        Assert.False(SharedInfoBody.TryParse(new byte[4095], out _));
    }

    [Fact]
    public void TscInfo_decodes_all_fields()
    {
        Assert.True(TscInfoBody.TryParse(Bodies.TscInfo(mode: 2, reserved: 9), out var t));
        Assert.Equal(2u, t.Mode);
        Assert.Equal(2_400_000u, t.Khz);
        Assert.Equal(123_456_789ul, t.Nsec);
        Assert.Equal(1u, t.Incarnation);
        Assert.Equal(9u, t.Reserved);
        Assert.False(TscInfoBody.TryParse(new byte[23], out _));
    }

    [Fact]
    public void HvmContext_walks_descriptors_and_decodes_the_header()
    {
        var blob = Bodies.HvmContext(2);
        var w = new HvmContextWalker(blob);
        var codes = new List<HvmSaveType>();
        HvmSaveHeader header = default;
        while (w.TryNext(out var d, out var data))
        {
            codes.Add(d.Code);
            if (d.Code == HvmSaveType.Header)
            {
                Assert.True(HvmSaveHeader.TryRead(data, out header));
            }
        }
        Assert.Equal([HvmSaveType.Header, HvmSaveType.Cpu, HvmSaveType.Cpu, HvmSaveType.End], codes);
        Assert.Equal(HvmSaveWalkStatus.End, w.Status);
        Assert.Equal(0, w.TrailingBytes);
        Assert.Equal(HvmSaveWire.FileMagic, header.Magic);
        Assert.Equal(1u, header.Version);
        Assert.Equal(2_400_000u, header.GtscKhz);
    }

    [Theory]
    [InlineData(36, HvmSaveWalkStatus.DescriptorTruncated)]
    [InlineData(40, HvmSaveWalkStatus.DataOutOfBounds)]
    [InlineData(32, HvmSaveWalkStatus.MissingEnd)]
    public void HvmContext_walk_stops_at_bad_framing(int length, HvmSaveWalkStatus status)
    {
        var w = new HvmContextWalker(Bodies.HvmContext(1).AsSpan(0, length));
        while (w.TryNext(out _, out _))
        {
        }
        Assert.Equal(status, w.Status);
    }

    [Fact]
    public void HvmParams_decodes_entries()
    {
        Assert.True(HvmParamsBody.TryParse(Bodies.HvmParams((1, 0xFEFFF), (17, 0xFEFFE)), out var p));
        Assert.Equal(2u, p.Count);
        Assert.Equal(2, p.AvailableEntries);
        Assert.Equal(new HvmParamEntry(17, 0xFEFFE), p[1]);
        Assert.Equal(HvmParam.StorePfn, p[0].Param);
        Assert.Equal(40, HvmParamsBody.ExpectedLength(2));
    }

    [Fact]
    public void Cpuid_and_msr_policies_decode_their_entries()
    {
        var cpuid = new CpuidPolicyBody(Bodies.CpuidPolicy(3));
        Assert.True(cpuid.IsWellFormed);
        Assert.Equal(3, cpuid.Count);
        Assert.Equal(2u, cpuid[2].Leaf);
        Assert.True(cpuid[2].HasNoSubleaf);
        Assert.Equal(0x0Fu, cpuid[2].A);
        Assert.False(new CpuidPolicyBody(new byte[25]).IsWellFormed);
        Assert.False(new CpuidPolicyBody([]).IsWellFormed);

        var msr = new MsrPolicyBody(Bodies.MsrPolicy(2, flags: 4));
        Assert.True(msr.IsWellFormed);
        Assert.Equal(new MsrPolicyEntry(0xCF, 4, 2), msr[1]);
    }

    [Fact]
    public void DirtyPfnList_and_PfnList_decode_pfns()
    {
        var dirty = new DirtyPfnListBody(Bodies.PfnList(9, 10).AsSpan(8));
        Assert.Equal(2, dirty.Count);
        Assert.Equal(10ul, dirty[1]);
        Assert.False(new DirtyPfnListBody(new byte[12]).IsWellFormed);
        Assert.True(PfnListBody.TryParse(Bodies.PfnList(9, 10), out var list));
        Assert.Equal(2u, list.Count);
        Assert.Equal(10ul, list.Word(1));
        Assert.Equal(24, PfnListBody.ExpectedLength(2));
    }

    [Fact]
    public void Emulator_sub_header_and_xenstore_pairs_decode()
    {
        var body = Bodies.Emulator(2, 1, Bodies.Xenstore("physmap/f0/size", "1000", "physmap/f0/name", "vga"));
        Assert.True(EmulatorBody.TryParse(body, out var e));
        Assert.Equal(2u, e.EmulatorId);
        Assert.Equal(1u, e.Index);
        Assert.True(e.IsKnownEmulator);
        var pairs = new List<(string, string)>();
        var r = new XenstorePairReader(e.Payload);
        while (r.TryNext(out var k, out var v))
        {
            pairs.Add((System.Text.Encoding.ASCII.GetString(k), System.Text.Encoding.ASCII.GetString(v)));
        }
        Assert.Equal([("physmap/f0/size", "1000"), ("physmap/f0/name", "vga")], pairs);
        Assert.True(EmulatorBody.TryParse(Bodies.Emulator(2, 0, Bodies.Qevm(16)), out var ctx) && ctx.PayloadIsQemuSavevm);
        Assert.False(EmulatorBody.TryParse(new byte[7], out _));
    }

    [Theory]
    [InlineData("", XenstoreDataProblem.None, XenstoreDataProblem.None)]
    [InlineData("a\0b\0", XenstoreDataProblem.None, XenstoreDataProblem.None)]
    [InlineData("a\0b", XenstoreDataProblem.NotNulTerminated, XenstoreDataProblem.None)]
    [InlineData("a\0b\0c\0", XenstoreDataProblem.OddStringCount, XenstoreDataProblem.None)]
    [InlineData("\0v\0", XenstoreDataProblem.None, XenstoreDataProblem.EmptyKey)]
    [InlineData("k\0v\0/abs\0v\0", XenstoreDataProblem.None, XenstoreDataProblem.AbsoluteKey)]
    [InlineData("k\0/value-may-be-absolute\0", XenstoreDataProblem.None, XenstoreDataProblem.None)]
    public void Xenstore_scanner_applies_verify_and_libxl_rules_in_any_chunking(string payload, XenstoreDataProblem framing, XenstoreDataProblem key)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(payload);
        for (var chunk = 1; chunk <= Math.Max(1, bytes.Length); chunk++)
        {
            var s = default(XenstoreDataScanner);
            for (var i = 0; i < bytes.Length; i += chunk)
            {
                s.Add(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
            }
            Assert.Equal(framing, s.FramingProblem);
            Assert.Equal(key, s.KeyProblem);
        }
    }

    [Fact]
    public void CheckpointState_decodes_the_control_id()
    {
        Assert.True(CheckpointStateBody.TryParse(Bodies.U32(2), out var s));
        Assert.Equal(2u, s.ControlId);
        Assert.True(s.IsKnown);
        Assert.True(CheckpointStateBody.TryParse(Bodies.U32(4), out var bad) && !bad.IsKnown);
        Assert.False(CheckpointStateBody.TryParse(new byte[3], out _));
    }

    [Fact]
    public void Xl_optional_data_holds_the_config()
    {
        byte[] opt = [.. Bodies.U32(5), .. "{}\0\0\0"u8.ToArray(), 9, 9];
        Assert.True(XlOptionalData.TryParse(opt, out var d));
        Assert.Equal(5u, d.ConfigSize);
        Assert.True(d.ConfigFits);
        Assert.Equal(5, d.Config.Length);
        Assert.Equal(2, d.ExtraBytes);
        Assert.True(XlOptionalData.TryParse([], out var none) && none.IsEmpty && none.ConfigFits);
        Assert.False(XlOptionalData.TryParse([1, 2], out _));
        Assert.True(XlOptionalData.TryParse(Bodies.U32(100), out var lying) && !lying.ConfigFits);
        Assert.False(XlOptionalData.ConfigFitsIn(1, 3));
    }
}
