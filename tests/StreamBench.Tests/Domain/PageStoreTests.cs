using StreamBench.Domain.Pages;
using Xunit;

namespace StreamBench.Tests.Domain;

public sealed class PageStoreTests
{
    // The first slab holds 256 pages, later ones 2048 (huge-page advised): contents survive across the short first
    // slab, the jump to the second, released slots are reused zeroed, and every page keeps its own bytes.
    [Fact]
    public void Pages_keep_their_contents_across_slabs_and_released_slots_come_back_zeroed()
    {
        var store = new PageStore();
        const int count = 5000; // four slabs: 256 + 2048 + 2048 + the rest
        var page = new byte[PageGeometry.Size];
        for (ulong pfn = 0; pfn < count; pfn++)
        {
            Fill(page, pfn);
            store.Write(pfn * 3, page);
        }

        Assert.Equal(count, store.MaterialisedPages);
        Assert.Equal((256L + (3 * 2048)) * PageGeometry.Size, store.AllocatedBytes);
        for (ulong pfn = 0; pfn < count; pfn++)
        {
            Fill(page, pfn);
            Assert.True(store.Read(pfn * 3).SequenceEqual(page), $"pfn {pfn * 3}");
            Assert.True(store.ReadMemory(pfn * 3).Span.SequenceEqual(page), $"pfn {pfn * 3} (memory)");
        }

        store.Release(3 * 255); // the first slab's last slot
        store.Release(3 * 256); // the second slab's first slot
        Assert.False(store.GetWritable(1_000_001).ContainsAnyExcept((byte)0));
        Assert.False(store.GetWritable(1_000_002).ContainsAnyExcept((byte)0));
        Assert.True(store.Read(3 * 255).SequenceEqual(PageGeometry.ZeroPage));
        Assert.Equal(count, store.MaterialisedPages);

        store.Clear();
        Assert.Equal(0, store.MaterialisedPages);
        Assert.Equal(0, store.AllocatedBytes);
        Assert.True(store.Read(3).SequenceEqual(PageGeometry.ZeroPage));
    }

    // A cleared store's slabs go to the process-wide pool (PageStore.Clear): a later store that takes them must see
    // every page it has not written as zeros, in both slab sizes, whatever the earlier store left in them.
    [Fact]
    public void Slabs_reused_from_a_cleared_store_come_back_zeroed()
    {
        var page = new byte[PageGeometry.Size];
        for (int round = 0; round < 3; round++)
        {
            var dirty = new PageStore();
            for (ulong pfn = 0; pfn < 2600; pfn++)
            {
                Fill(page, pfn + (ulong)round);
                dirty.Write(pfn, page);
            }

            dirty.Clear();
        }

        var fresh = new PageStore();
        for (ulong pfn = 0; pfn < 2600; pfn++)
        {
            Assert.False(fresh.GetWritable(pfn).ContainsAnyExcept((byte)0), $"slot of pfn {pfn}");
        }

        Assert.Equal(2600, fresh.MaterialisedPages);
        fresh.Clear();
    }

    // A large store takes slabs prepared ahead on other threads (allocated and faulted in there, PageStore.NextHugeSlab):
    // every page keeps its own bytes, and a slot of a prepared slab never written reads as zeros.
    [Fact]
    public void Slabs_prepared_ahead_hold_the_pages_written_and_zeros_elsewhere()
    {
        var store = new PageStore();
        const int count = 2048 * 7; // seven huge slabs and a bit: more than the pool's two can supply
        var page = new byte[PageGeometry.Size];
        for (ulong pfn = 0; pfn < count; pfn++)
        {
            Fill(page, pfn);
            store.Write(pfn, page);
        }

        Assert.True(store.PreparedSlabsUsed > 0, "no slab was taken from the preparing threads");
        for (ulong pfn = 0; pfn < count; pfn++)
        {
            Fill(page, pfn);
            Assert.True(store.Read(pfn).SequenceEqual(page), $"pfn {pfn}");
        }

        for (ulong pfn = count; pfn < count + 3000; pfn++)
        {
            Assert.False(store.GetWritable(pfn).ContainsAnyExcept((byte)0), $"fresh slot of pfn {pfn}");
        }

        Assert.Equal(count + 3000, store.MaterialisedPages);
        store.Clear();
        Assert.Equal(0, store.AllocatedBytes);
    }

    private static void Fill(byte[] page, ulong pfn)
    {
        for (int i = 0; i < page.Length; i += 8)
        {
            BitConverter.TryWriteBytes(page.AsSpan(i), (pfn << 20) ^ (ulong)i ^ 0x5a5a);
        }
    }
}
