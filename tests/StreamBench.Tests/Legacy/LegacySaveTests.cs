using FsCheck;
using FsCheck.Fluent;
using StreamBench.Cli;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Legacy;

/// <summary>
/// The legacy save (<see cref="LegacySave"/>): restore(convert(legacy_save(d))) has d's digest, less what the legacy
/// format cannot carry (PV vCPU MSRs), which the save names; the image reads as xc_domain_save laid it out.
/// </summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class LegacySaveTests
{
    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>Legacy saves of every guest kind and toolstack width.</summary>
        public static Arbitrary<Scenario> Scenarios() => Arb.From(LegacySaveTests.Scenarios);
    }

    /// <summary>One generated legacy save.</summary>
    public sealed record Scenario(GuestType Type, ulong MiB, int Vcpus, ulong Seed, LegacyWidth Width, int Ballooned)
    {
        public override string ToString() => $"{Type} {MiB} MiB {Vcpus} vCPU seed {Seed} {(int)Width}-bit toolstack, {Ballooned} ballooned";
    }

    private static readonly Gen<Scenario> Scenarios =
        from type in Gen.Elements(GuestType.Pv, GuestType.Pv32, GuestType.Hvm)
        from mib in Gen.Choose(4, 16)
        from vcpus in Gen.Choose(1, 3)
        from seed in Gen.Choose(1, int.MaxValue)
        from width in Gen.Elements(LegacyWidth.Bits32, LegacyWidth.Bits64)
        from ballooned in Gen.Elements(0, 8)
        select new Scenario(type, (ulong)mib, vcpus, (ulong)seed, width, type == GuestType.Hvm ? 0 : ballooned);

    internal static GuestDomain Build(Scenario s) =>
        DomainBuilder.Build(new DomainSpec(s.Type, s.MiB, s.Vcpus, s.Seed) { BalloonedPages = s.Ballooned });

    internal static byte[] SaveLegacy(GuestDomain domain, LegacyWidth width, out LegacySaveResult result)
    {
        using var ms = new MemoryStream();
        result = LegacySave.Save(domain, ms, new LegacySaveOptions { Width = width });
        return ms.ToArray();
    }

    /// <summary>As <c>streambench restore</c> does with legacy input: convert on the fly, restore the libxl stream.</summary>
    internal static RestoreResult RestoreConverted(byte[] image, GuestDomain like)
    {
        using var source = ByteSource.FromMemory(image);
        using var conversion = LegacyOnTheFly.Start(source);
        RestoreResult result;
        try
        {
            result = RestoreEngine.Restore(conversion.Converted, new RestoreOptions
            {
                Config = DomainConfig.FromDomain(like),
                Reader = new XenStreamReaderOptions { Format = OuterFormat.Libxl },
            });
        }
        catch (StreamFormatException) when (conversion.Finish() is { } legacyError)
        {
            throw legacyError;
        }

        Assert.Null(conversion.Finish());
        return result;
    }

    private static void Law(Scenario s)
    {
        using GuestDomain source = Build(s);
        byte[] image = SaveLegacy(source, s.Width, out LegacySaveResult saved);
        Assert.Equal(image.Length, saved.Bytes);

        // What the legacy format cannot carry is named, and is exactly the PV vCPUs' MSRs.
        var expectedLost = new List<string>();
        if (source is PvDomain pv)
        {
            foreach (int id in pv.OnlineVcpus())
            {
                if (pv.GetVcpu(id).Msrs.Count > 0)
                {
                    expectedLost.Add($"vcpu {id}: {pv.GetVcpu(id).Msrs.Count} MSR(s) (X86_PV_VCPU_MSRS has no legacy counterpart)");
                }
            }
        }

        Assert.Equal(expectedLost, saved.NotCarried);

        RestoreResult restored = RestoreConverted(image, source);
        using GuestDomain target = restored.Domain;
        Assert.Equal(DomainLifecycle.Ready, target.Lifecycle);
        Assert.True(restored.CpuPolicySynthesised, $"{s}: a converted legacy image carries no CPU policy");

        if (source is PvDomain p)
        {
            foreach (int id in p.OnlineVcpus())
            {
                p.GetVcpu(id).Msrs.Clear(); // the one thing the image could not carry (asserted above)
            }
        }

        Assert.True(source.ComputeDigest() == target.ComputeDigest(), $"{s}: {DomainComparison.FirstDifference(source, target)}");
    }

    [Property(MaxTest = 12)]
    public void Restore_of_the_converted_legacy_save_has_the_source_digest(Scenario s) => Law(s);

    [Theory]
    [InlineData(GuestType.Pv, LegacyWidth.Bits64, 1)]
    [InlineData(GuestType.Pv, LegacyWidth.Bits32, 2)]
    [InlineData(GuestType.Pv32, LegacyWidth.Bits64, 2)]
    [InlineData(GuestType.Pv32, LegacyWidth.Bits32, 1)]
    [InlineData(GuestType.Hvm, LegacyWidth.Bits64, 2)]
    [InlineData(GuestType.Hvm, LegacyWidth.Bits32, 1)]
    public void Every_legacy_guest_kind_and_width_round_trips(GuestType type, LegacyWidth width, int vcpus) =>
        Law(new Scenario(type, 6, vcpus, 42, width, type == GuestType.Hvm ? 0 : 8));

    [Fact]
    public void A_single_vcpu_PV_guest_round_trips_with_nothing_lost()
    {
        using GuestDomain source = Build(new Scenario(GuestType.Pv, 4, 1, 7, LegacyWidth.Bits64, 0));
        DomainDigest before = source.ComputeDigest();
        byte[] image = SaveLegacy(source, LegacyWidth.Bits64, out LegacySaveResult saved);
        Assert.Empty(saved.NotCarried);
        using GuestDomain target = RestoreConverted(image, source).Domain;
        Assert.Equal(before, target.ComputeDigest());
    }

    [Fact]
    public void PVH_is_refused_with_a_clear_error()
    {
        using GuestDomain pvh = DomainBuilder.Build(new DomainSpec(GuestType.Pvh, 4, 1, 1));
        using var ms = new MemoryStream();
        var e = Assert.Throws<SaveException>(() => LegacySave.Save(pvh, ms));
        Assert.Contains("PVH did not exist before Xen 4.6", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, ms.Length);
    }

    [Theory]
    [InlineData(GuestType.Pv, LegacyWidth.Bits64)]
    [InlineData(GuestType.Pv32, LegacyWidth.Bits32)]
    [InlineData(GuestType.Hvm, LegacyWidth.Bits64)]
    public void The_image_reads_as_xc_domain_save_laid_it_out(GuestType type, LegacyWidth width)
    {
        using GuestDomain d = Build(new Scenario(type, 4, 2, 3, width, type == GuestType.Hvm ? 0 : 8));
        byte[] image = SaveLegacy(d, width, out LegacySaveResult saved);
        using var reader = new LegacyStreamReader(ByteSource.FromMemory(image), new LegacyStreamReaderOptions());
        var kinds = new List<LegacyItemKind>();
        long pfns = 0, dataPages = 0, tables = 0;
        int basics = 0;
        ulong nextPfn = 0;
        while (reader.Read())
        {
            kinds.Add(reader.Kind);
            if (reader.Kind == LegacyItemKind.PageBatch)
            {
                foreach (ulong word in reader.PfnWords)
                {
                    Assert.Equal(nextPfn++, LegacyPfn.PfnOf(word)); // every pfn in order, once
                    uint t = LegacyPfn.TypeOf(word);
                    PageInfoCheck(d, LegacyPfn.PfnOf(word), t);
                    tables += t is >= 1 and <= 4 or >= 9 and <= 12 ? 1 : 0;
                }

                pfns += reader.PfnWords.Length;
                dataPages += reader.DataPageCount;
            }

            basics += reader.Kind == LegacyItemKind.PvVcpuBasic ? 1 : 0;
        }

        Assert.Equal(width, reader.Width);
        Assert.Equal(type == GuestType.Hvm ? LegacyGuestType.Hvm : LegacyGuestType.Pv, reader.GuestType);
        Assert.Equal(StreamEnding.Complete, reader.Ending);
        Assert.Equal(saved.P2mSize, nextPfn);
        Assert.Equal(saved.Pfns, pfns);
        Assert.Equal(saved.DataPages, dataPages);
        Assert.Equal(saved.NormalisedPages, tables);
        Assert.Contains(LegacyItemKind.EndOfBody, kinds);
        if (d is PvDomain pv)
        {
            Assert.True(tables > 0, "a PV guest has page tables");
            Assert.Equal(pv.OnlineVcpus().Count(), basics);
            Assert.Equal(LegacyItemKind.SharedInfo, kinds[^1]);
            Assert.Contains(LegacyItemKind.PvVcpuExtended, kinds);
            Assert.Contains(LegacyItemKind.PvVcpuXsave, kinds);
        }
        else
        {
            Assert.Equal(0, tables);
            Assert.Equal(LegacyItemKind.QemuRecord, kinds[^1]);
            Assert.Contains(LegacyItemKind.HvmContext, kinds);
        }
    }

    // The legacy type nibble is what get_pfn_type_batch reports: XTAB for holes, NOTAB for data, LnTAB (+pin) for tables.
    private static void PageInfoCheck(GuestDomain d, ulong pfn, uint type)
    {
        var info = d.GetPageInfo(pfn);
        if (!info.IsPopulated)
        {
            Assert.Equal(0xFu, type);
        }
        else if (info.IsPageTable)
        {
            Assert.Equal((uint)info.Type.TableLevel() | (info.Pinned ? 8u : 0u), type);
        }
        else
        {
            Assert.True(type is 0 or 0xD, $"pfn 0x{pfn:x}: type 0x{type:x}");
        }
    }

    [Fact]
    public void PV_page_tables_are_written_normalised_as_the_v2_save_writes_them()
    {
        using GuestDomain d = Build(new Scenario(GuestType.Pv, 4, 1, 11, LegacyWidth.Bits64, 0));
        var pv = (PvDomain)d;
        byte[] image = SaveLegacy(d, LegacyWidth.Bits64, out _);
        using var reader = new LegacyStreamReader(ByteSource.FromMemory(image), new LegacyStreamReaderOptions());
        var expected = new byte[4096];
        int compared = 0;
        while (reader.Read())
        {
            if (reader.Kind != LegacyItemKind.PageBatch)
            {
                continue;
            }

            ulong[] words = reader.PfnWords.ToArray();
            byte[] pages = reader.GetBody().ToArray();
            int slot = 0;
            foreach (ulong word in words)
            {
                if (!LegacyPfn.HasData(word))
                {
                    continue;
                }

                ulong pfn = LegacyPfn.PfnOf(word);
                ReadOnlySpan<byte> page = pages.AsSpan(slot++ * 4096, 4096);
                if (d.GetPageInfo(pfn).IsPageTable)
                {
                    pv.NormalisePageTable(pfn, expected);
                    Assert.True(page.SequenceEqual(expected), $"pfn 0x{pfn:x}");
                    Assert.False(page.SequenceEqual(d.ReadPage(pfn)), $"pfn 0x{pfn:x}: a normalised table differs from its machine form");
                    compared++;
                }
                else
                {
                    Assert.True(page.SequenceEqual(d.ReadPage(pfn)), $"pfn 0x{pfn:x}");
                }
            }
        }

        Assert.True(compared > 4, $"{compared} page tables compared");
    }

    [Fact]
    public void Cli_save_format_legacy_restores_to_the_printed_digest()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("legacy-save-");
        try
        {
            string image = Path.Combine(dir.FullName, "hvm.legacy");
            var saveOut = new StringWriter();
            var restoreOut = new StringWriter();
            TextWriter old = Console.Out;
            int saveRc, restoreRc;
            try
            {
                Console.SetOut(saveOut);
                saveRc = Program.BuildRoot().Parse(["save", "--guest", "hvm", "-m", "6M", "--vcpus", "2", "--seed", "9", "-f", "legacy", "-o", image]).Invoke();
                Console.SetOut(restoreOut);
                restoreRc = Program.BuildRoot().Parse(["restore", image, "--guest", "hvm", "-m", "6M", "--vcpus", "2"]).Invoke();
            }
            finally
            {
                Console.SetOut(old);
            }

            Assert.Equal(0, saveRc);
            Assert.Equal(0, restoreRc);
            string Digest(StringWriter w) => w.ToString().Split('\n').Last(l => l.StartsWith("digest: ", StringComparison.Ordinal)).Trim();
            Assert.Contains("(legacy, 64-bit toolstack, non-live)", saveOut.ToString(), StringComparison.Ordinal);
            Assert.Equal(Digest(saveOut), Digest(restoreOut));
            Assert.Equal(LegacyGuestType.Hvm, LegacyFormatDetector.Detect(File.ReadAllBytes(image).AsSpan(0, 16)).GuestType);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Cli_refuses_pvh_and_live_legacy_saves()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("legacy-save-");
        try
        {
            string image = Path.Combine(dir.FullName, "x.legacy");
            TextWriter old = Console.Error;
            var err = new StringWriter();
            int pvh, live;
            try
            {
                Console.SetError(err);
                pvh = Program.BuildRoot().Parse(["save", "--guest", "pvh", "-m", "4M", "-f", "legacy", "-o", image]).Invoke();
                live = Program.BuildRoot().Parse(["save", "--guest", "pv", "-m", "4M", "-f", "legacy", "--live", "-o", image]).Invoke();
            }
            finally
            {
                Console.SetError(old);
            }

            Assert.Equal(1, pvh);
            Assert.Equal(2, live);
            Assert.Contains("PVH did not exist before Xen 4.6", err.ToString(), StringComparison.Ordinal);
            Assert.Contains("--live", err.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void An_HVM_VM86_TSS_of_another_size_is_named_as_not_carried()
    {
        using GuestDomain d = Build(new Scenario(GuestType.Hvm, 4, 1, 5, LegacyWidth.Bits64, 0));
        var hvm = (HvmDomain)d;
        hvm.Params.Set(HvmParamIndex.Vm86TssSized, (0x200ul << 32) | 0xFC00_2000ul);
        _ = SaveLegacy(d, LegacyWidth.Bits64, out LegacySaveResult saved);
        Assert.Single(saved.NotCarried);
        Assert.Contains("VM86_TSS_SIZED", saved.NotCarried[0], StringComparison.Ordinal);
    }
}
