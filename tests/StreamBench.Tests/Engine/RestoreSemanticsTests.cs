using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pv;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using Xunit;
using static StreamBench.Tests.Engine.StreamEdit;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Tests.Engine;

/// <summary>What the C restore accepts and how it applies it (xg_sr_restore*.c), beyond refusing bad streams.</summary>
public sealed class RestoreSemanticsTests
{
    private static (GuestDomain Source, byte[] Stream) Saved(GuestType type, SaveOptions? options = null)
    {
        GuestDomain d = EngineTestSupport.Build(type);
        return (d, EngineTestSupport.Save(d, options));
    }

    private static void AssertSameDigest(GuestDomain source, RestoreResult restored)
    {
        using GuestDomain target = restored.Domain;
        Assert.True(source.ComputeDigest() == target.ComputeDigest(), StreamBench.Domain.Digest.DomainComparison.FirstDifference(source, target));
    }

    [Fact]
    public void An_unknown_optional_record_is_skipped_and_counted()
    {
        (GuestDomain source, byte[] stream) = Saved(GuestType.Pv);
        using (source)
        {
            byte[] edited = Parse(stream).InsertAfter(i => i.Is(LibxcRecordType.StaticDataEnd), Libxc(0x8000_0042u, new byte[16])).Join();
            RestoreResult r = EngineTestSupport.Restore(edited, source);
            Assert.Equal(1, r.IgnoredOptionalRecords);
            AssertSameDigest(source, r);
        }
    }

    [Fact]
    public void Empty_errata_records_are_accepted_and_ignored()
    {
        (GuestDomain pv, byte[] pvStream) = Saved(GuestType.Pv);
        using (pv)
        {
            byte[] edited = Parse(pvStream).InsertAfter(i => i.Is(LibxcRecordType.X86PvVcpuExtended),
                Libxc(LibxcRecordType.X86PvVcpuExtended, new byte[8]), Libxc(LibxcRecordType.X86PvVcpuXsave, new byte[8]),
                Libxc(LibxcRecordType.X86PvVcpuMsrs, new byte[8])).Join();
            RestoreResult r = EngineTestSupport.Restore(edited, pv);
            Assert.Equal(3, r.Warnings.Count(w => w.Contains("errata", StringComparison.Ordinal)));
            AssertSameDigest(pv, r);
        }

        (GuestDomain hvm, byte[] hvmStream) = Saved(GuestType.Hvm);
        using (hvm)
        {
            byte[] edited = Parse(hvmStream).InsertBefore(i => i.Is(LibxcRecordType.End), Libxc(LibxcRecordType.HvmParams, new byte[8])).Join();
            RestoreResult r = EngineTestSupport.Restore(edited, hvm);
            Assert.Contains(r.Warnings, w => w.Contains("HVM_PARAMS", StringComparison.Ordinal));
            AssertSameDigest(hvm, r);
        }
    }

    [Fact]
    public void A_pfn_repeated_in_one_batch_is_populated_once()
    {
        (GuestDomain source, byte[] stream) = Saved(GuestType.Hvm);
        using (source)
        {
            StreamEdit e = Parse(stream);
            e.ReplaceBody(i => i.Is(LibxcRecordType.PageData), body =>
            {
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(body);
                ulong first = BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(8));
                byte[] page = body.AsSpan(8 + (8 * (int)count), LibxcWire.PageSize).ToArray();
                var words = Enumerable.Range(0, (int)count).Select(i => BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(8 + (8 * i)))).Append(first).ToArray();
                return PageData(words, [.. body.AsSpan(8 + (8 * (int)count)).ToArray(), .. page]);
            });
            RestoreResult r = EngineTestSupport.Restore(e.Join(), source);
            Assert.Equal(source.PopulatedCount, r.Domain.PopulatedCount);
            AssertSameDigest(source, r);
        }
    }

    [Fact]
    public void Hvm_context_is_applied_last_whatever_its_place_and_pae_enabled_is_dropped()
    {
        (GuestDomain source, byte[] stream) = Saved(GuestType.Hvm);
        using (source)
        {
            StreamEdit e = Parse(stream);
            Item context = e.First(i => i.Is(LibxcRecordType.HvmContext));
            e.Remove(i => i.Is(LibxcRecordType.HvmContext));
            var pae = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(pae, 1);
            BinaryPrimitives.WriteUInt64LittleEndian(pae.AsSpan(8), HvmParamIndex.PaeEnabled);
            BinaryPrimitives.WriteUInt64LittleEndian(pae.AsSpan(16), 1);
            e.InsertBefore(i => i.Is(LibxcRecordType.HvmParams), Libxc(LibxcRecordType.HvmParams, pae));
            e.InsertBefore(i => i.Is(LibxcRecordType.End), context); // the spec's order: PARAMS, then CONTEXT
            RestoreResult r = EngineTestSupport.Restore(e.Join(), source);
            Assert.False(((HvmDomain)r.Domain).Params.Contains(HvmParamIndex.PaeEnabled));
            AssertSameDigest(source, r);
        }
    }

    [Fact]
    public void Store_ioreq_bufioreq_and_console_pages_are_cleared_by_hvm_params()
    {
        (GuestDomain source, byte[] stream) = Saved(GuestType.Hvm);
        using (source)
        {
            var hvm = (HvmDomain)source;
            ulong[] pfns = [hvm.StorePfn, hvm.IoreqPfn, hvm.BufioreqPfn, hvm.ConsolePfn];
            byte[] junk = Enumerable.Repeat((byte)0xA5, LibxcWire.PageSize * pfns.Length).ToArray();
            byte[] edited = Parse(stream).InsertBefore(i => i.Is(LibxcRecordType.HvmParams),
                Libxc(LibxcRecordType.PageData, PageData(pfns.Select(p => PageWord.Make(p, WirePageType.NoTab)).ToArray(), junk))).Join();
            RestoreResult r = EngineTestSupport.Restore(edited, source);
            foreach (ulong pfn in pfns)
            {
                Assert.False(r.Domain.ReadPage(pfn).ContainsAnyExcept((byte)0), $"pfn 0x{pfn:x} was not cleared");
            }

            AssertSameDigest(source, r);
        }
    }

    [Fact]
    public void A_v2_stream_infers_static_data_end_and_gets_a_synthesised_cpu_policy()
    {
        foreach (GuestType type in new[] { GuestType.Pv32, GuestType.Pvh })
        {
            (GuestDomain source, byte[] stream) = Saved(type, new SaveOptions { StreamVersion = 2 });
            using (source)
            {
                Assert.DoesNotContain(Parse(stream).Items, i => i.Is(LibxcRecordType.StaticDataEnd) || i.Is(LibxcRecordType.X86CpuidPolicy));
                RestoreResult r = EngineTestSupport.Restore(stream, source);
                Assert.Equal(2u, r.StreamVersion);
                Assert.True(r.CpuPolicySynthesised);
                AssertSameDigest(source, r);
            }
        }
    }

    [Fact]
    public void A_pv32_stream_switches_a_default_64_bit_domain_to_the_compat_width()
    {
        (GuestDomain source, byte[] stream) = Saved(GuestType.Pv32);
        using (source)
        {
            RestoreResult r = EngineTestSupport.Restore(stream, options: new RestoreOptions { Config = DomainConfig.FromDomain(source) with { Type = GuestType.Pv } });
            Assert.Equal(GuestType.Pv32, r.Domain.Type);
            Assert.Equal(4, ((PvDomain)r.Domain).Geometry.GuestWidth);
            AssertSameDigest(source, r);
        }
    }

    [Fact]
    public void Reserved_fields_and_padding_are_ignored_when_asked_as_the_c_restore_does()
    {
        (GuestDomain source, byte[] stream) = Saved(GuestType.Pv);
        using (source)
        {
            byte[] edited = Parse(stream).ReplaceBody(i => i.Is(LibxcRecordType.PageData), b => { b[4] = 1; return b; })
                .InsertAfter(i => i.Is(LibxcRecordType.StaticDataEnd), Record(StreamLayer.Libxc, 0x8000_0013u, new byte[3], paddingByte: 7)).Join();
            Assert.Throws<StreamBench.Formats.StreamFormatException>(() => EngineTestSupport.Restore(edited, source));
            RestoreResult r = EngineTestSupport.Restore(edited, source, new RestoreOptions { CheckReservedFields = false });
            AssertSameDigest(source, r);
        }
    }

    [Fact]
    public void Reading_stops_at_the_outermost_end_and_trailing_bytes_are_not_read()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Hvm);
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Xl });
        byte[] withTail = [.. stream, .. XlMigrateProtocol.PermissionToGo, 1, 2, 3];
        RestoreResult r = EngineTestSupport.Restore(withTail);
        Assert.Equal(stream.Length, r.Bytes);
        Assert.True(EmulatorState.IsQemuImage(r.EmulatorContext));
        AssertSameDigest(source, r);
    }

    [Fact]
    public void A_stream_read_in_small_irregular_pieces_restores_the_same_domain()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Pv, 8);
        byte[] stream = EngineTestSupport.Save(source, EngineTestSupport.Live(source, SaveFormat.Libxl));
        using var trickle = new TrickleStream(stream, maxChunk: 5000);
        RestoreResult r = RestoreEngine.Restore(trickle, new RestoreOptions { Config = DomainConfig.FromDomain(source) });
        AssertSameDigest(source, r);
    }

    [Fact]
    public void The_xl_config_sizes_the_domain_and_overrides_win()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Pvh, 6, 3);
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Xl });
        RestoreResult r = EngineTestSupport.Restore(stream);
        Assert.Equal(new DomainConfig(GuestType.Pvh, 3, 6 * 256) { Name = "streambench", MaxPages = source.MemoryLimitPages }, r.Config! with { XlConfigText = default });
        Assert.Equal(DomainConfig.FromDomain(source).ToJson(), r.Config.XlConfigText.ToArray()); // kept for a save of the restored domain
        AssertSameDigest(source, r);

        // Without a config, the memory must be given; hvm vs pvh cannot be told from the libxc stream.
        byte[] bare = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Libxc });
        Assert.Throws<ArgumentException>(() => EngineTestSupport.Restore(bare));
        RestoreResult r2 = EngineTestSupport.Restore(bare, options: new RestoreOptions { Guest = GuestType.Pvh, Vcpus = 3, MemoryPages = 6 * 256 });
        AssertSameDigest(source, r2);
    }
}
