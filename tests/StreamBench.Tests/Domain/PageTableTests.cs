using FsCheck;
using FsCheck.Fluent;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using FsCheck.Xunit;
using Xunit;
using StreamBench.X86;

namespace StreamBench.Tests.Domain;

[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class PageTableTests
{
    /// <summary>The entries of one L1 table (frames of <see cref="Shared"/>'s populated pfns).</summary>
    public sealed record L1Table(ulong[] Entries);

    /// <summary>The domain the random tables point into: built once, read only (localise/normalise work on a copy of the page).</summary>
    private static readonly Lazy<PvDomain> Shared = new(() => Build(GuestType.Pv, frameSeed: 12));

    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>Tables of zero, not-present and present entries (any flags, NX or not) to populated pfns.</summary>
        public static Arbitrary<L1Table> Tables()
        {
            ulong[] populated = Shared.Value.PopulatedPfns().ToArray();
            return Arb.From(Gen.ArrayOf(
                Gen.Frequency(
                    (1, Gen.Constant(0ul)),
                    (1, Gen.Choose(0, int.MaxValue).Select(x => (ulong)x << 1)), // not present: anything goes
                    (4, from i in Gen.Choose(0, populated.Length - 1)
                        from flags in Gen.Choose(0, 0xFFF)
                        from nx in Gen.Elements(0ul, PteFormat.NoExecute)
                        select PteFormat.Make(populated[i], (ulong)flags | PteFormat.Present | nx))),
                PteFormat.EntriesPerTable).Select(e => new L1Table(e)));
        }
    }

    public static TheoryData<GuestType> PvTypes => new() { GuestType.Pv, GuestType.Pv32 };

    private static PvDomain Build(GuestType type, ulong frameSeed, ulong seed = 11) =>
        DomainBuilder.BuildPv(new DomainSpec(type, 16, 2, seed) { FrameSeed = frameSeed, BalloonedPages = 8 });

    private static ulong[] PageTablePfns(PvDomain d) => d.PopulatedPfns().Where(p => d.GetPageInfo(p).IsPageTable).ToArray();

    [Theory]
    [MemberData(nameof(PvTypes))]
    public void Normalise_then_localise_gives_back_the_table_minus_Xen_slots(GuestType type)
    {
        using PvDomain d = Build(type, frameSeed: 1);
        var page = new byte[PageGeometry.Size];
        foreach (ulong pfn in PageTablePfns(d))
        {
            PageType level = d.GetPageInfo(pfn).Type;
            d.NormalisePageTable(pfn, page);
            d.LocalisePageTable(level, page, populateMissing: false);

            byte[] expected = d.ReadPage(pfn).ToArray();
            (int first, int last) = d.XenSlots(level, expected);
            for (int i = first; first >= 0 && i <= last; i++)
            {
                PteFormat.WriteEntry(expected, i, 0);
            }

            Assert.True(expected.AsSpan().SequenceEqual(page), $"pfn 0x{pfn:x} ({level}) did not round-trip");
        }
    }

    [Theory]
    [MemberData(nameof(PvTypes))]
    public void Normalised_tables_localise_onto_another_frame_layout(GuestType type)
    {
        using PvDomain a = Build(type, frameSeed: 1);
        using PvDomain b = Build(type, frameSeed: 2);
        var page = new byte[PageGeometry.Size];
        var normalisedB = new byte[PageGeometry.Size];
        int differing = 0;
        foreach (ulong pfn in PageTablePfns(a))
        {
            PageType level = a.GetPageInfo(pfn).Type;
            a.NormalisePageTable(pfn, page);
            b.NormalisePageTable(pfn, normalisedB);
            Assert.True(page.AsSpan().SequenceEqual(normalisedB), $"pfn 0x{pfn:x}: normalised forms differ across frame layouts");

            differing += a.ReadPage(pfn).SequenceEqual(b.ReadPage(pfn)) ? 0 : 1;
            b.LocalisePageTable(level, page, populateMissing: false);
            var reNormalised = new byte[PageGeometry.Size];
            b.TryNormalisePageTable(level, page, reNormalised, out PageTableError? error);
            Assert.Null(error);
            Assert.True(reNormalised.AsSpan().SequenceEqual(normalisedB));
        }

        Assert.True(differing > 0, "the two layouts should hold different machine frames");
    }

    [Theory]
    [MemberData(nameof(PvTypes))]
    public void Normalise_clears_exactly_the_Xen_owned_slots(GuestType type)
    {
        using PvDomain d = Build(type, frameSeed: 3);
        var page = new byte[PageGeometry.Size];
        ulong top = d.PopulatedPfns().First(p => d.GetPageInfo(p).Pinned);
        d.NormalisePageTable(top, page);
        if (type == GuestType.Pv)
        {
            Assert.True(PteFormat.IsPresent(PteFormat.ReadEntry(d.ReadPage(top), PvDomain.XenL4FirstSlot)));
            for (int i = PvDomain.XenL4FirstSlot; i <= PvDomain.XenL4LastSlot; i++)
            {
                Assert.Equal(0ul, PteFormat.ReadEntry(page, i));
            }
        }
        else
        {
            ulong l2 = PteFormat.Frame(PteFormat.ReadEntry(d.ReadPage(top), 3));
            Assert.True(d.TryMfnToPfn(l2, out ulong l2pfn));
            d.NormalisePageTable(l2pfn, page);
            for (int i = PvDomain.XenPaeL2FirstSlot; i < PteFormat.EntriesPerTable; i++)
            {
                Assert.Equal(0ul, PteFormat.ReadEntry(page, i));
            }

            Assert.True(PteFormat.IsPresent(PteFormat.ReadEntry(page, 0)));
        }
    }

    [Fact]
    public void Normalise_keeps_flags_and_rewrites_only_the_frame()
    {
        using PvDomain d = Build(GuestType.Pv, frameSeed: 4);
        ulong l1 = d.PopulatedPfns().First(p => d.GetPageInfo(p).Type == PageType.L1Table);
        var page = new byte[PageGeometry.Size];
        d.NormalisePageTable(l1, page);
        for (int i = 0; i < PteFormat.EntriesPerTable; i++)
        {
            ulong machine = PteFormat.ReadEntry(d.ReadPage(l1), i);
            ulong normalised = PteFormat.ReadEntry(page, i);
            Assert.Equal(machine & ~PteFormat.FrameMask, normalised & ~PteFormat.FrameMask);
            if (PteFormat.IsPresent(machine))
            {
                Assert.True(d.TryMfnToPfn(PteFormat.Frame(machine), out ulong pfn));
                Assert.Equal(pfn, PteFormat.Frame(normalised));
            }
        }
    }

    [Fact]
    public void Normalise_rejects_an_mfn_outside_the_pseudophysmap()
    {
        using PvDomain d = Build(GuestType.Pv, frameSeed: 5);
        ulong l1 = d.PopulatedPfns().First(p => d.GetPageInfo(p).Type == PageType.L1Table);
        PteFormat.WriteEntry(d.GetWritablePage(l1), 7, PteFormat.Make(0x0FFF, PteFormat.Present | PteFormat.Writable));

        var page = new byte[PageGeometry.Size];
        Assert.False(d.TryNormalisePageTable(l1, page, out PageTableError? error));
        Assert.Equal(PageTableErrorKind.FrameNotInPseudophysmap, error!.Kind);
        Assert.Equal(7, error.Index);
        Assert.Equal(PageType.L1Table, error.Level);
        Assert.Contains("L1[7]", error.Message, StringComparison.Ordinal);
        var thrown = Assert.Throws<PageTableException>(() => d.NormalisePageTable(l1, page));
        Assert.Equal(error.Message, thrown.Error!.Message);
        Assert.NotEmpty(d.Validate());
    }

    [Fact]
    public void Normalise_rejects_superpages_and_l4_tables_in_pae_guests()
    {
        using PvDomain d64 = Build(GuestType.Pv, frameSeed: 6);
        ulong l2 = d64.PopulatedPfns().First(p => d64.GetPageInfo(p).Type == PageType.L2Table);
        var page = d64.ReadPage(l2).ToArray();
        PteFormat.WriteEntry(page, 3, PteFormat.ReadEntry(page, 0) | PteFormat.PageSize);
        var dst = new byte[PageGeometry.Size];
        Assert.False(d64.TryNormalisePageTable(PageType.L2Table, page, dst, out PageTableError? error));
        Assert.Equal(PageTableErrorKind.Superpage, error!.Kind);
        Assert.Equal(3, error.Index);

        using PvDomain d32 = Build(GuestType.Pv32, frameSeed: 6);
        Assert.False(d32.TryNormalisePageTable(PageType.L4Table, new byte[PageGeometry.Size], dst, out error));
        Assert.Equal(PageTableErrorKind.LevelNotValidForGeometry, error!.Kind);
    }

    [Fact]
    public void Localise_rejects_a_pte_to_a_frame_beyond_max_pfn_and_leaves_the_page_alone()
    {
        using PvDomain d = Build(GuestType.Pv, frameSeed: 7);
        var page = new byte[PageGeometry.Size];
        PteFormat.WriteEntry(page, 0, PteFormat.Make(1, PteFormat.Present));
        PteFormat.WriteEntry(page, 9, PteFormat.Make(d.MaxPfn + 1, PteFormat.Present | PteFormat.Writable));
        byte[] before = page.ToArray();

        var e = Assert.Throws<PageTableException>(() => d.LocalisePageTable(PageType.L1Table, page));
        Assert.Equal(PageTableErrorKind.PfnBeyondMaxPfn, e.Error!.Kind);
        Assert.Equal(9, e.Error.Index);
        Assert.Contains("L1[9]", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, page);
    }

    [Fact]
    public void Localise_populates_referenced_frames_unless_told_not_to()
    {
        using PvDomain d = Build(GuestType.Pv, frameSeed: 8);
        ulong hole = Enumerable.Range(0, (int)d.MaxPfn + 1).Select(i => (ulong)i).First(p => !d.IsPopulated(p));
        var page = new byte[PageGeometry.Size];
        PteFormat.WriteEntry(page, 2, PteFormat.Make(hole, PteFormat.Present));

        byte[] strict = page.ToArray();
        Assert.False(d.TryLocalisePageTable(PageType.L1Table, strict, populateMissing: false, out PageTableError? error));
        Assert.Equal(PageTableErrorKind.PfnNotPopulated, error!.Kind);
        Assert.False(d.IsPopulated(hole));

        d.LocalisePageTable(PageType.L1Table, page);
        Assert.True(d.IsPopulated(hole));
        Assert.Equal(d.PfnToMfn(hole), PteFormat.Frame(PteFormat.ReadEntry(page, 2)));
    }

    [Fact]
    public void Localise_fails_cleanly_when_the_frame_cannot_be_populated()
    {
        using PvDomain d = Build(GuestType.Pv, frameSeed: 9);
        d.MemoryLimitPages = (ulong)d.PopulatedCount; // no room to populate
        ulong hole = Enumerable.Range(0, (int)d.MaxPfn + 1).Select(i => (ulong)i).First(p => !d.IsPopulated(p));
        var page = new byte[PageGeometry.Size];
        PteFormat.WriteEntry(page, 5, PteFormat.Make(hole, PteFormat.Present));

        var e = Assert.Throws<PageTableException>(() => d.LocalisePageTable(PageType.L2Table, page));
        Assert.Equal(PageTableErrorKind.PfnNotPopulated, e.Error!.Kind);
        Assert.Contains("limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Localise_ignores_non_present_entries_and_non_tables()
    {
        using PvDomain d = Build(GuestType.Pv, frameSeed: 10);
        var page = new byte[PageGeometry.Size];
        PteFormat.WriteEntry(page, 1, PteFormat.Make(d.MaxPfn + 100, PteFormat.Writable)); // not present
        d.LocalisePageTable(PageType.L1Table, page);
        Assert.Equal(PteFormat.Make(d.MaxPfn + 100, PteFormat.Writable), PteFormat.ReadEntry(page, 1));

        PteFormat.WriteEntry(page, 2, PteFormat.Make(d.MaxPfn + 100, PteFormat.Present));
        d.LocalisePageTable(PageType.Normal, page); // only page tables are localised
    }

    [Property]
    public void Law_localise_then_normalise_is_the_identity_on_random_tables(L1Table table)
    {
        PvDomain d = Shared.Value;
        var page = new byte[PageGeometry.Size];
        for (int i = 0; i < table.Entries.Length; i++)
        {
            PteFormat.WriteEntry(page, i, table.Entries[i] & ~PteFormat.PageSize);
        }

        byte[] original = page.ToArray();
        d.LocalisePageTable(PageType.L1Table, page, populateMissing: false);
        var back = new byte[PageGeometry.Size];
        Assert.True(d.TryNormalisePageTable(PageType.L1Table, page, back, out PageTableError? error), error?.Message);
        Assert.Equal(original, back);
    }
}
