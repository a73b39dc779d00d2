using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.Formats.Records;
using StreamBench.Formats.Wire;
using StreamBench.X86;
using Xunit;

namespace StreamBench.Tests.Records;

/// <summary>
/// The x86 facts live once, in StreamBench.X86, and both the wire side (Formats) and the simulated domain use them:
/// the policy entries round-trip through their byte layout, and the sizes the wire tables give are the same numbers.
/// </summary>
public sealed class X86FactsTests
{
    [Fact]
    public void A_cpuid_leaf_round_trips_through_its_24_bytes()
    {
        var leaf = new CpuidLeaf(0xD, 1, 0x11223344, 0x55667788, 0x99AABBCC, 0xDDEEFF00);
        var bytes = new byte[CpuidLeaf.Size + 8];
        leaf.Write(bytes.AsSpan(4));

        Assert.Equal(leaf, CpuidLeaf.Read(bytes.AsSpan(4)));
        Assert.Equal(new byte[] { 0x0D, 0, 0, 0, 1, 0, 0, 0, 0x44, 0x33, 0x22, 0x11 }, bytes[4..16]);
        Assert.Equal(0, bytes[0] | bytes[^1]);
        Assert.False(leaf.HasNoSubleaf);
        Assert.True(leaf with { Subleaf = CpuidLeaf.NoSubleaf } is { HasNoSubleaf: true });
    }

    [Fact]
    public void An_msr_policy_entry_round_trips_through_its_16_bytes_and_the_policy_body_decodes_it()
    {
        var entries = new[] { new MsrPolicyEntry(0xC000_0080, 1, 0x0123_4567_89AB_CDEF), new MsrPolicyEntry(0xCE, 0, 0) };
        var body = new byte[entries.Length * MsrPolicyEntry.Size];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i].Write(body.AsSpan(i * MsrPolicyEntry.Size));
        }

        var decoded = new MsrPolicyBody(body);
        Assert.Equal(2, decoded.Count);
        Assert.Equal(entries[0], decoded[0]);
        Assert.Equal(entries[1], decoded[1]);
        Assert.Equal(0x80, body[0]);
        Assert.Equal(1, body[4]);
        Assert.Equal(0xEF, body[8]);
    }

    [Fact]
    public void The_wire_and_the_domain_take_their_sizes_from_the_x86_facts()
    {
        Assert.Equal(CpuidLeaf.Size, LibxcBodySizes.CpuidLeaf);
        Assert.Equal(MsrPolicyEntry.Size, LibxcBodySizes.MsrEntry);
        Assert.Equal(CpuidLeaf.NoSubleaf, LibxcBodySizes.CpuidNoSubleaf);
        Assert.Equal(X86Page.Size, LibxcWire.PageSize);
        Assert.Equal(X86Page.Shift, LibxcWire.PageShift);
        Assert.Equal(X86Page.Size, PageGeometry.Size);
        Assert.Equal(X86Page.Size / PteFormat.EntrySize, PteFormat.EntriesPerTable);
    }

    [Theory]
    [InlineData(8, 4, true, 512)]
    [InlineData(4, 3, true, 1024)]
    [InlineData(8, 3, false, 512)]
    [InlineData(4, 4, false, 1024)]
    public void The_pv_geometries_are_one_rule_for_the_wire_and_the_domain(int width, int levels, bool valid, int framesPerPage)
    {
        Assert.Equal(valid, PvPaging.IsValidGeometry(width, levels));
        Assert.Equal(valid, PvGeometry.IsValid(width, levels));
        Assert.Equal(framesPerPage, PvPaging.FramesPerPage(width));
        if (valid)
        {
            Assert.Equal(framesPerPage, PvGeometry.Create(width, levels).FramesPerPage);
        }
    }

    [Fact]
    public void A_pte_names_its_frame_in_bits_12_to_51()
    {
        ulong pte = PteFormat.Make(PteFormat.MaxFrame, PteFormat.Present | PteFormat.Writable | PteFormat.NoExecute);
        Assert.True(PteFormat.IsPresent(pte));
        Assert.Equal(0xFF_FFFF_FFFFul, PteFormat.Frame(pte));
        Assert.Equal(0x000F_FFFF_FFFF_F000ul | PteFormat.Present | PteFormat.Writable | PteFormat.NoExecute, pte);
        Assert.Equal(0x1234ul, PteFormat.Frame(PteFormat.WithFrame(pte, 0x1234)));
        Assert.False(PteFormat.IsPresent(pte & ~PteFormat.Present));
    }
}
