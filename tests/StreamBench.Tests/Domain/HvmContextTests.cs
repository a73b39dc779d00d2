using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Hvm.Context;
using Xunit;
using StreamBench.X86;

namespace StreamBench.Tests.Domain;

public sealed class HvmContextTests
{
    private static HvmDomain Build(GuestType type, int vcpus, bool xsave = true) =>
        DomainBuilder.BuildHvm(new DomainSpec(type, 8, vcpus, 31) { HvmXsave = xsave });

    private static byte[] Descriptor(ushort type, ushort instance, uint length)
    {
        var d = new byte[HvmSaveTypes.DescriptorSize];
        BinaryPrimitives.WriteUInt16LittleEndian(d, type);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(2), instance);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), length);
        return d;
    }

    private static byte[] Blob(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Header(uint magic = HvmSaveTypes.FileMagic, uint version = HvmSaveTypes.FileVersion)
    {
        var body = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(body, magic);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), version);
        return Blob(Descriptor(1, 0, 24), body);
    }

    private static byte[] End => Descriptor(0, 0, 0);

    [Fact]
    public void Record_sizes_match_xen_public_save_h()
    {
        Assert.Equal(24, HvmSaveTypes.FixedLength(HvmSaveType.Header));
        Assert.Equal(1032, HvmSaveTypes.FixedLength(HvmSaveType.Cpu));
        Assert.Equal(8, HvmSaveTypes.FixedLength(HvmSaveType.Pic));
        Assert.Equal(400, HvmSaveTypes.FixedLength(HvmSaveType.Ioapic));
        Assert.Equal(24, HvmSaveTypes.FixedLength(HvmSaveType.Lapic));
        Assert.Equal(1024, HvmSaveTypes.FixedLength(HvmSaveType.LapicRegs));
        Assert.Equal(56, HvmSaveTypes.FixedLength(HvmSaveType.Pit));
        Assert.Equal(1048, HvmSaveTypes.FixedLength(HvmSaveType.Hpet));
        Assert.Equal(240, HvmSaveTypes.FixedLength(HvmSaveType.Mtrr));
        Assert.Equal(32, HvmSaveTypes.FixedLength(HvmSaveType.VmceVcpu));
    }

    [Theory]
    [InlineData(1, 2504)]
    [InlineData(2, 4912)]
    public void Pvh_context_without_xsave_has_the_size_of_a_real_xen_4_17_capture(int vcpus, int expected)
    {
        // FORMATS.md 14: xl save of a PVH guest under QEMU/TCG gave HVM_CONTEXT of 2504 bytes (1 vCPU), 4912 (2).
        using HvmDomain d = Build(GuestType.Pvh, vcpus, xsave: false);
        Assert.Equal(expected, d.GetContextBlob().Length);
        Assert.Equal(expected, d.Context.BlobLength);
    }

    [Theory]
    [InlineData(GuestType.Hvm, 1)]
    [InlineData(GuestType.Hvm, 3)]
    [InlineData(GuestType.Pvh, 2)]
    public void Build_then_parse_round_trips_byte_for_byte(GuestType type, int vcpus)
    {
        using HvmDomain d = Build(type, vcpus);
        byte[] blob = d.GetContextBlob();

        HvmContext parsed = HvmContext.Parse(blob, vcpus);

        Assert.Equal(blob, parsed.ToBlob());
        Assert.Empty(HvmContext.Check(blob, vcpus));
        Assert.Equal(d.Context.Vcpus[vcpus - 1].Cpu!.InstructionPointer, parsed.Vcpus[vcpus - 1].Cpu!.InstructionPointer);
        Assert.Equal(HvmSaveTypes.FileMagic, parsed.Header.Magic);
    }

    [Fact]
    public void Xen_4_20_lapic_of_32_bytes_parses_and_round_trips_at_its_own_length()
    {
        // A real Xen 4.20 capture (the lab's xen-4.20-save-pvh.xl) carries LAPIC as 32 bytes: the 24 of Xen 4.17 plus
        // x2apic_id and rsvd_zero. Both lengths parse; each comes back out at the length it came in.
        var lapic = new byte[HvmSaveTypes.LapicLengthWithX2ApicId];
        BinaryPrimitives.WriteUInt64LittleEndian(lapic, 0xFEE0_0900);
        BinaryPrimitives.WriteUInt32LittleEndian(lapic.AsSpan(HvmLapicState.X2ApicIdOffset), 6);
        byte[] blob420 = Blob(Header(), Descriptor(5, 0, 32), lapic, End);
        HvmContext parsed = HvmContext.Parse(blob420, vcpuCount: 1);
        Assert.Equal(blob420, parsed.ToBlob());
        Assert.Equal(6u, parsed.Vcpus[0].Lapic!.X2ApicId);
        Assert.Equal(0xFEE0_0900ul, parsed.Vcpus[0].Lapic!.BaseMsr);

        byte[] blob417 = Blob(Header(), Descriptor(5, 0, 24), lapic[..24], End);
        HvmContext old = HvmContext.Parse(blob417, vcpuCount: 1);
        Assert.Equal(blob417, old.ToBlob());
        Assert.Null(old.Vcpus[0].Lapic!.X2ApicId);
        Assert.False(new HvmLapicState().HasX2ApicId);
    }

    [Fact]
    public void Blob_starts_with_header_ends_with_end_and_orders_types_ascending()
    {
        using HvmDomain d = Build(GuestType.Hvm, 2);
        byte[] blob = d.GetContextBlob();
        var seen = new List<(ushort Type, ushort Instance)>();
        int at = 0;
        while (true)
        {
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at));
            ushort inst = BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at + 2));
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(at + 4));
            seen.Add((type, inst));
            at += 8 + (int)len;
            if (type == 0)
            {
                break;
            }
        }

        Assert.Equal(blob.Length, at);
        Assert.Equal((ushort)1, seen[0].Type);
        Assert.Equal((ushort)0, seen[^1].Type);
        Assert.Equal(seen.Take(seen.Count - 1).OrderBy(s => s.Type).ThenBy(s => s.Instance), seen.Take(seen.Count - 1));
        Assert.Contains(((ushort)HvmSaveType.Pic, (ushort)1), seen);
        Assert.Contains(((ushort)HvmSaveType.CpuXsave, (ushort)1), seen);
    }

    [Fact]
    public void Domain_refuses_a_bad_blob_and_keeps_its_context()
    {
        using HvmDomain d = Build(GuestType.Hvm, 1);
        byte[] good = d.GetContextBlob();
        byte[] bad = good.ToArray();
        bad[8] ^= 0xFF; // magic

        var e = Assert.Throws<HvmContextException>(() => d.SetContextBlob(bad));
        Assert.Contains("bad magic", e.Message, StringComparison.Ordinal);
        Assert.Equal(good, d.GetContextBlob());
    }

    public static TheoryData<string, byte[], string> BadBlobs()
    {
        byte[] cpu = new byte[1032];
        return new TheoryData<string, byte[], string>
        {
            { "empty", [], "empty" },
            { "header not first", Blob(Descriptor(2, 0, 1032), cpu, Header(), End), "first entry is CPU, expected HEADER" },
            { "bad magic", Blob(Header(magic: 0x12345678), End), "bad magic 0x12345678, expected 0x54381286" },
            { "bad version", Blob(Header(version: 2), End), "unsupported version 2" },
            { "no end", Header(), "did not end with an END entry" },
            { "stray bytes", Blob(Header(), [1, 2, 3]), "3 stray byte(s)" },
            { "overrun", Blob(Header(), Descriptor(2, 0, 5000), cpu), "length 5000 overruns the blob (1032 byte(s) left" },
            { "unknown type", Blob(Header(), Descriptor(21, 0, 0), End), "unknown typecode 21" },
            { "wrong length", Blob(Header(), Descriptor(2, 0, 1024), new byte[1024], End), "CPU instance 0): length 1024, expected 1032" },
            { "instance beyond vcpus", Blob(Header(), Descriptor(2, 2, 1032), cpu, End), "instance 2 is not below the vCPU count 2" },
            { "third pic", Blob(Header(), Descriptor(3, 2, 8), new byte[8], End), "instance 2 is not below 2" },
            { "duplicate", Blob(Header(), Descriptor(2, 1, 1032), cpu, Descriptor(2, 1, 1032), cpu, End), "duplicate entry" },
            { "second header", Blob(Header(), Header(), End), "HEADER appears again" },
            { "trailing", Blob(Header(), End, [0, 0, 0, 0]), "4 byte(s) after the END entry" },
            { "end with length", Blob(Header(), Descriptor(0, 0, 4), [0, 0, 0, 0]), "END has length 4" },
            { "msr count", Blob(Header(), Descriptor(20, 0, 24), Msr(count: 2, entries: 1), End), "count 2 needs length 40, found 24" },
            { "short xsave", Blob(Header(), Descriptor(16, 0, 100), new byte[100], End), "below the minimum 600" },
            { "lapic neither 4.17 nor 4.20", Blob(Header(), Descriptor(5, 0, 28), new byte[28], End), "LAPIC instance 0): length 28, expected 24 (Xen up to 4.19) or 32 (4.20" },
        };
    }

    private static byte[] Msr(uint count, int entries)
    {
        var body = new byte[8 + (16 * entries)];
        BinaryPrimitives.WriteUInt32LittleEndian(body, count);
        return body;
    }

    [Theory]
    [MemberData(nameof(BadBlobs))]
    public void Parser_rejects_with_a_precise_message(string name, byte[] blob, string expected)
    {
        var e = Assert.Throws<HvmContextException>(() => HvmContext.Parse(blob, vcpuCount: 2));
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{name}: '{e.Message}' lacks '{expected}'");
        Assert.NotNull(e.Problem);
    }

    [Fact]
    public void Problems_name_entry_index_offset_type_and_instance()
    {
        byte[] cpu = new byte[1032];
        byte[] blob = Blob(Header(), Descriptor(2, 0, 1032), cpu, Descriptor(5, 7, 24), new byte[24], End);

        HvmContextProblem p = Assert.Single(HvmContext.Check(blob, 2));

        Assert.Equal(2, p.EntryIndex);
        Assert.Equal(8 + 24 + 8 + 1032, p.Offset);
        Assert.Equal((ushort)HvmSaveType.Lapic, p.TypeCode);
        Assert.Equal((ushort)7, p.Instance);
        Assert.StartsWith("HVM context entry 2 at offset 0x430 (LAPIC instance 7)", p.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_reports_every_problem_not_just_the_first()
    {
        byte[] blob = Blob(Header(magic: 1), Descriptor(2, 9, 1032), new byte[1032], Descriptor(4, 0, 3), new byte[3], End, [9]);

        IReadOnlyList<HvmContextProblem> problems = HvmContext.Check(blob, 2);

        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public void Xen_compatible_options_tolerate_what_hvm_load_ignores()
    {
        using HvmDomain d = Build(GuestType.Pvh, 1);
        byte[] blob = [.. d.GetContextBlob(), 0xAA, 0xBB];

        Assert.Throws<HvmContextException>(() => HvmContext.Parse(blob, 1));
        HvmContext parsed = HvmContext.Parse(blob, 1, HvmContextParseOptions.XenCompatible);
        Assert.Equal(d.GetContextBlob(), parsed.ToBlob());
    }

    [Fact]
    public void Typed_fields_read_and_write_the_right_bytes()
    {
        var cpu = new HvmCpuState { InstructionPointer = 0x1122_3344_5566_7788, Efer = 0xD01, CpuFlags = 1 };
        Assert.Equal(0x1122_3344_5566_7788ul, BinaryPrimitives.ReadUInt64LittleEndian(cpu.Data[640..]));
        Assert.Equal(0xD01ul, BinaryPrimitives.ReadUInt64LittleEndian(cpu.Data[992..]));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(cpu.Data[1024..]));
        Assert.Equal("rip", HvmCpuState.DescribeOffset(640));

        var header = new HvmSaveHeader { GtscKhz = 2_400_000 };
        Assert.Equal(0x54381286u, BinaryPrimitives.ReadUInt32LittleEndian(header.Data));
        Assert.Equal(2_400_000u, BinaryPrimitives.ReadUInt32LittleEndian(header.Data[20..]));

        var msrs = new HvmCpuMsrState([new VcpuMsr(0x48, 1), new VcpuMsr(0xC0000103, 7)]);
        Assert.Equal(8 + 32, msrs.Length);
        Assert.Equal(new VcpuMsr(0xC0000103, 7), msrs.Msrs[1]);
    }

    [Fact]
    public void Context_refuses_out_of_range_instances_and_the_wrong_vcpu_count()
    {
        var ctx = new HvmContext(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.SetEntry(HvmSaveType.Cpu, 2, new HvmCpuState()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.SetEntry(HvmSaveType.Ioapic, 1, new HvmIoApicState()));
        Assert.Throws<ArgumentException>(() => ctx.SetEntry(HvmSaveType.Lapic, 0, new HvmCpuState()));

        using HvmDomain d = Build(GuestType.Hvm, 1);
        Assert.Throws<DomainException>(() => d.Context = ctx);
    }

    [Fact]
    public void A_vcpu_without_a_cpu_record_is_offline()
    {
        using HvmDomain d = Build(GuestType.Hvm, 2);
        d.Context.Vcpus[1].Cpu = null;

        Assert.False(d.IsVcpuOnline(1));
        Assert.Equal([0], d.OnlineVcpus());
        HvmContext parsed = HvmContext.Parse(d.GetContextBlob(), 2);
        Assert.Null(parsed.Vcpus[1].Cpu);
        Assert.NotNull(parsed.Vcpus[1].Lapic);
    }
}
