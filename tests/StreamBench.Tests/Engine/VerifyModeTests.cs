using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using Xunit;
using static StreamBench.Tests.Engine.StreamEdit;

namespace StreamBench.Tests.Engine;

/// <summary>VERIFY (xl migrate --debug): every page is sent again and the restore compares instead of copying.</summary>
public sealed class VerifyModeTests
{
    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Hvm)]
    public void A_debug_migration_resends_every_page_and_all_compare_equal(GuestType type)
    {
        using GuestDomain source = EngineTestSupport.Build(type, 6);
        SaveOptions options = EngineTestSupport.Live(source, SaveFormat.Xl) with { VerifyMode = true };
        byte[] stream = EngineTestSupport.Save(source, options, out SaveResult saved);

        Assert.Equal(PassKind.Verify, saved.Passes[^1].Kind);
        Assert.True(Verifier.Verify(stream).IsValid);
        RestoreResult r = EngineTestSupport.Restore(stream);
        using GuestDomain target = r.Domain;
        Assert.True(r.VerifyMode);
        Assert.Equal(saved.Passes[^1].DataPages, r.VerifiedPages);
        Assert.Equal(0, r.VerifyMismatchCount);
        Assert.Equal(source.ComputeDigest(), target.ComputeDigest());
    }

    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Pvh)]
    public void A_corrupted_resent_page_is_reported_and_not_copied(GuestType type)
    {
        using GuestDomain source = EngineTestSupport.Build(type, 6);
        byte[] stream = EngineTestSupport.Save(source, EngineTestSupport.Live(source) with { VerifyMode = true });
        StreamEdit e = Parse(stream);
        int verify = e.IndexOf(i => i.Is(LibxcRecordType.Verify));
        int record = e.Items.FindIndex(verify, i => i.Is(LibxcRecordType.PageData) && FirstDataPage(i).DataPfn is not null);
        Item batch = e.Items[record];
        (ulong pfn, int pageOffset) = FirstDataPage(batch).DataPfn!.Value;
        batch.Raw[pageOffset + 100] ^= 0xFF;

        RestoreResult r = EngineTestSupport.Restore(e.Join(), source);
        using GuestDomain target = r.Domain;

        Assert.Equal(1, r.VerifyMismatchCount);
        Assert.Equal([pfn], r.VerifyMismatches);
        Assert.Equal(source.ComputeDigest(), target.ComputeDigest()); // compared, not copied
    }

    // The first data page of a PAGE_DATA record: its pfn and its raw offset.
    private static ((ulong Pfn, int Offset)? DataPfn, uint Count) FirstDataPage(Item item)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(item.Raw.AsSpan(8));
        for (int i = 0; i < count; i++)
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(item.Raw.AsSpan(16 + (8 * i)));
            if (PageWord.HasData(PageWord.TypeOf(word)))
            {
                int data = Enumerable.Range(0, i).Count(j => PageWord.HasData(PageWord.TypeOf(BinaryPrimitives.ReadUInt64LittleEndian(item.Raw.AsSpan(16 + (8 * j))))));
                return ((PageWord.PfnOf(word), 16 + (8 * (int)count) + (data * LibxcWire.PageSize)), count);
            }
        }

        return (null, count);
    }
}
