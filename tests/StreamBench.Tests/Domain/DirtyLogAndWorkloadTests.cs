using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Workloads;
using Xunit;

namespace StreamBench.Tests.Domain;

public sealed class DirtyLogTests
{
    [Fact]
    public void Writes_are_logged_only_while_enabled()
    {
        using GuestDomain d = DomainBuilder.Build(GuestType.Hvm, 8, 1, 1);
        ulong[] pfns = d.DataPfns().Take(3).ToArray();

        d.GetWritablePage(pfns[0])[0] = 1;
        Assert.Equal(0, d.DirtyLog.DirtyCount);

        d.DirtyLog.Enable();
        d.GetWritablePage(pfns[1])[0] = 1;
        d.WritePage(pfns[2], new byte[PageGeometry.Size]);
        d.GetWritablePage(pfns[1])[1] = 1;

        Assert.Equal(2, d.DirtyLog.DirtyCount);
        Assert.True(d.DirtyLog.IsDirty(pfns[1]));
        Assert.False(d.DirtyLog.IsDirty(pfns[0]));
    }

    [Fact]
    public void Clean_returns_the_dirty_set_and_restarts_the_log_peek_does_not()
    {
        using GuestDomain d = DomainBuilder.Build(GuestType.Pv, 8, 1, 1);
        d.DirtyLog.Enable();
        ulong[] pfns = d.DataPfns().Take(5).ToArray();
        foreach (ulong pfn in pfns)
        {
            d.GetWritablePage(pfn)[7] ^= 1;
        }

        PfnBitmap peeked = d.DirtyLog.Peek();
        Assert.Equal(5, peeked.Count);
        Assert.Equal(5, d.DirtyLog.DirtyCount);

        PfnBitmap cleaned = d.DirtyLog.Clean();
        Assert.Equal(pfns, cleaned.Enumerate());
        Assert.True(cleaned.SetEquals(peeked));
        Assert.Equal(0, d.DirtyLog.DirtyCount);

        d.GetWritablePage(pfns[2])[7] ^= 1;
        var reused = new PfnBitmap();
        Assert.Equal(1, d.DirtyLog.Clean(reused));
        Assert.Equal([pfns[2]], reused.Enumerate());
    }

    [Fact]
    public void Populating_a_page_marks_it_dirty_like_xen_does()
    {
        using GuestDomain d = DomainBuilder.Build(GuestType.Hvm, 8, 1, 1);
        d.DirtyLog.Enable();
        ulong fresh = d.Layout().LowMemEndPfn + 10; // unbacked space below the hole

        d.Populate(fresh);

        Assert.True(d.DirtyLog.IsDirty(fresh));
    }

    [Fact]
    public void Clean_and_peek_refuse_when_log_dirty_is_off()
    {
        var log = new DirtyLog();
        Assert.Throws<DomainException>(() => log.Clean());
        Assert.Throws<DomainException>(() => log.Peek());
        log.Mark(3);
        Assert.Equal(0, log.DirtyCount);
    }

    [Fact]
    public void Bitmap_handles_far_apart_pfns_and_set_algebra()
    {
        var a = new PfnBitmap();
        ulong[] pfns = [0, 63, 64, 4095, 4096, 1ul << 30, (1ul << 40) - 1];
        foreach (ulong p in pfns)
        {
            Assert.True(a.Add(p));
        }

        Assert.False(a.Add(64));
        Assert.Equal(pfns, a.Enumerate());
        var b = new PfnBitmap();
        b.AddRange(4094, 4);
        a.UnionWith(b);
        Assert.Equal(pfns.Length + 2, a.Count);
        Assert.True(a.Remove(1ul << 30));
        Assert.False(a.Contains(1ul << 30));
        Assert.True(a.Clone().SetEquals(a));
    }
}

public sealed class WorkloadTests
{
    private static GuestDomain Build(GuestType type) => DomainBuilder.Build(type, 16, 2, 77);

    [Theory]
    [InlineData(GuestType.Pv, WorkloadPattern.Uniform)]
    [InlineData(GuestType.Pv32, WorkloadPattern.HotSet)]
    [InlineData(GuestType.Hvm, WorkloadPattern.Sequential)]
    [InlineData(GuestType.Pvh, WorkloadPattern.HotSet)]
    public void Same_seed_same_writes_same_dirty_sets(GuestType type, WorkloadPattern pattern)
    {
        using GuestDomain a = Build(type);
        using GuestDomain b = Build(type);
        var wa = new Workload(a, new WorkloadOptions(pattern, 50, Seed: 5));
        var wb = new Workload(b, new WorkloadOptions(pattern, 50, Seed: 5));
        a.DirtyLog.Enable();
        b.DirtyLog.Enable();

        for (int iteration = 0; iteration < 4; iteration++)
        {
            wa.Step(3);
            wb.Step(3);
            Assert.True(a.DirtyLog.Clean().SetEquals(b.DirtyLog.Clean()));
            Assert.Equal(a.ComputeDigest(), b.ComputeDigest());
        }

        Assert.Equal(4 * 3 * 50, wa.TotalWrites);
        Assert.Equal(12, wa.Tick);
    }

    [Fact]
    public void Different_seeds_write_differently()
    {
        using GuestDomain a = Build(GuestType.Hvm);
        using GuestDomain b = Build(GuestType.Hvm);
        new Workload(a, new WorkloadOptions(WorkloadPattern.Uniform, 20, Seed: 1)).Step();
        new Workload(b, new WorkloadOptions(WorkloadPattern.Uniform, 20, Seed: 2)).Step();

        Assert.NotEqual(a.ComputeDigest(), b.ComputeDigest());
    }

    [Fact]
    public void Hot_set_concentrates_writes_and_uniform_spreads_them()
    {
        using GuestDomain a = Build(GuestType.Hvm);
        var hot = new Workload(a, new WorkloadOptions(WorkloadPattern.HotSet, 1000, 3) { HotSetFraction = 0.01, HotWriteShare = 1.0 });
        WorkloadStepResult h = hot.Step();
        Assert.True(h.DistinctPages <= hot.HotPages.Count, $"{h.DistinctPages} distinct > hot set {hot.HotPages.Count}");

        using GuestDomain b = Build(GuestType.Hvm);
        WorkloadStepResult u = new Workload(b, new WorkloadOptions(WorkloadPattern.Uniform, 1000, 3)).Step();
        Assert.True(u.DistinctPages > 800, $"uniform wrote only {u.DistinctPages} distinct pages");
    }

    [Fact]
    public void Sequential_walks_the_data_pages_in_order_and_wraps()
    {
        using GuestDomain d = Build(GuestType.Pvh);
        var w = new Workload(d, new WorkloadOptions(WorkloadPattern.Sequential, 10, 1));
        d.DirtyLog.Enable();

        w.Step();
        Assert.Equal(w.Candidates.Take(10), d.DirtyLog.Clean().Enumerate());

        w.Step((w.Candidates.Count / 10) - 1);
        d.DirtyLog.Clean();
        w.Step();
        PfnBitmap wrapped = d.DirtyLog.Clean();
        Assert.Contains(w.Candidates[0], wrapped.Enumerate());
    }

    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Pv32)]
    [InlineData(GuestType.Hvm)]
    public void Workloads_never_touch_structural_pages_and_the_domain_stays_valid(GuestType type)
    {
        using GuestDomain d = Build(type);
        var w = new Workload(d, new WorkloadOptions(WorkloadPattern.Uniform, 2000, 9));
        d.DirtyLog.Enable();

        w.Step(5);

        Assert.Empty(d.Validate());
        foreach (ulong pfn in d.DirtyLog.Peek().Enumerate())
        {
            Assert.False(d.IsStructuralPage(pfn), $"pfn 0x{pfn:x} is structural");
            Assert.Equal(PageType.Normal, d.GetPageInfo(pfn).Type);
        }

        using GuestDomain restored = DomainTransplant.SaveRestore(d);
        Assert.Equal(d.ComputeDigest(), restored.ComputeDigest());
    }

    [Fact]
    public void A_domain_without_data_pages_is_left_alone()
    {
        using GuestDomain d = DomainBuilder.CreateEmpty(GuestType.Hvm, 1, 1024);
        WorkloadStepResult r = new Workload(d, new WorkloadOptions(WorkloadPattern.Uniform, 5, 1)).Step(2);
        Assert.Equal(0, r.Writes);
    }
}

internal static class DomainTestExtensions
{
    public static StreamBench.Domain.Hvm.HvmMemoryLayout Layout(this GuestDomain d) => ((StreamBench.Domain.Hvm.HvmDomain)d).Layout;
}
