using StreamBench.Domain.Digest;
using StreamBench.Domain.Pages;
using StreamBench.X86;

namespace StreamBench.Domain;

/// <summary>Where a domain object is in its life.</summary>
public enum DomainLifecycle
{
    /// <summary>Being filled (by a builder or a restore). May be incomplete; nothing may run it yet.</summary>
    Building,

    /// <summary>Complete and consistent: it can be saved, run by a workload, compared.</summary>
    Ready,

    /// <summary>Thrown away (restore failed or the caller is done). Every operation refuses.</summary>
    Discarded,
}

/// <summary>
/// A simulated x86 domain: guest memory with per-pfn types, vCPUs, CPU policy and TSC
/// settings. <see cref="Pv.PvDomain"/> and <see cref="Hvm.HvmDomain"/> add the per-kind state.
/// A restore builds into a new object in the <see cref="DomainLifecycle.Building"/> state and
/// either <see cref="Complete"/>s it or <see cref="Discard"/>s it: there is never a half-built
/// domain that looks ready.
/// </summary>
public abstract class GuestDomain : IDisposable
{
    private readonly List<CpuidLeaf> _cpuid = [];
    private readonly List<MsrPolicyEntry> _msrPolicy = [];
    private protected GuestMemory _memory = new();
    private StreamingDigest? _streamingDigest;

    private protected GuestDomain(GuestType type, int maxVcpus, ulong memoryLimitPages)
    {
        if (maxVcpus is < 1 or > MaxVcpuLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxVcpus), maxVcpus, $"vCPU count must be 1..{MaxVcpuLimit}");
        }

        Type = type;
        MaxVcpus = maxVcpus;
        MemoryLimitPages = memoryLimitPages;
    }

    /// <summary>The most vCPUs a simulated domain may have (HVM save instances are u16; keep it sane).</summary>
    public const int MaxVcpuLimit = 128;

    /// <summary>The guest kind (a PV domain's follows its geometry: <see cref="Pv.PvDomain.SetGeometry"/>).</summary>
    public GuestType Type { get; private protected set; }

    /// <summary>Number of vCPUs the domain was created with (Xen's max_vcpus).</summary>
    public int MaxVcpus { get; }

    /// <summary>Building, Ready or Discarded.</summary>
    public DomainLifecycle Lifecycle { get; private set; } = DomainLifecycle.Building;

    /// <summary>The most pages that may be populated (Xen's max_pages); populating beyond it fails.</summary>
    public ulong MemoryLimitPages { get; set; }

    /// <summary>The highest pfn the saver must consider (PV: the p2m's max_pfn; HVM: the highest populated pfn).</summary>
    public abstract ulong MaxPfn { get; }

    /// <summary>Number of populated pfns (including broken ones).</summary>
    public long PopulatedCount => _memory.PopulatedCount;

    /// <summary>Pages holding allocated content buffers (the rest read as zero and cost nothing).</summary>
    public long MaterialisedPages => _memory.Contents.MaterialisedPages;

    /// <summary>Bytes of page content buffers currently allocated.</summary>
    public long AllocatedContentBytes => _memory.Contents.AllocatedBytes;

    /// <summary>The log-dirty bitmap (enable it before pre-copy).</summary>
    public DirtyLog DirtyLog => _memory.DirtyLog;

    /// <summary>Guest TSC settings.</summary>
    public TscInfo Tsc { get; set; }

    /// <summary>The CPUID policy, in the order it was set.</summary>
    public IReadOnlyList<CpuidLeaf> CpuidPolicy => _cpuid;

    /// <summary>The MSR policy, in the order it was set.</summary>
    public IReadOnlyList<MsrPolicyEntry> MsrPolicy => _msrPolicy;

    /// <summary>Replaces the CPUID policy.</summary>
    public void SetCpuidPolicy(IEnumerable<CpuidLeaf> leaves)
    {
        ThrowIfDiscarded();
        _cpuid.Clear();
        _cpuid.AddRange(leaves);
    }

    /// <summary>Replaces the MSR policy.</summary>
    public void SetMsrPolicy(IEnumerable<MsrPolicyEntry> entries)
    {
        ThrowIfDiscarded();
        _msrPolicy.Clear();
        _msrPolicy.AddRange(entries);
    }

    // ------------------------------------------------------------------ memory

    /// <summary>True if <paramref name="pfn"/> has a frame behind it.</summary>
    public bool IsPopulated(ulong pfn) => _memory.IsPopulated(pfn);

    /// <summary>The pfn's type and pin state (<see cref="PageType.Unpopulated"/> if nothing is there).</summary>
    public PageInfo GetPageInfo(ulong pfn) => _memory.Info(pfn);

    /// <summary>
    /// Xen's pfn_is_valid for stream records: PV accepts pfns up to max_pfn (which
    /// X86_PV_P2M_FRAMES may grow first); HVM accepts every pfn (population may still refuse holes).
    /// </summary>
    public abstract bool IsPfnValid(ulong pfn);

    /// <summary>
    /// Says whether <paramref name="pfn"/> may be populated now; if not, <paramref name="reason"/>
    /// says why (hole, beyond max_pfn, memory limit, ...). Already-populated pfns answer true.
    /// </summary>
    public bool CanPopulate(ulong pfn, out string reason)
    {
        ThrowIfDiscarded();
        if (_memory.IsPopulated(pfn))
        {
            reason = string.Empty;
            return true;
        }

        if (pfn >= PageGeometry.PfnLimit)
        {
            reason = $"pfn 0x{pfn:x} is beyond the 52-bit guest-physical limit";
            return false;
        }

        if ((ulong)_memory.PopulatedCount >= MemoryLimitPages)
        {
            reason = $"populating pfn 0x{pfn:x} would exceed the domain's limit of {MemoryLimitPages} pages";
            return false;
        }

        return CanPopulateCore(pfn, out reason);
    }

    /// <summary>
    /// Gives <paramref name="pfn"/> a (zero) frame, as XENMEM_populate_physmap does. Populating
    /// an already-populated pfn is a no-op, as Xen's restore tolerates duplicates.
    /// </summary>
    public void Populate(ulong pfn)
    {
        if (_memory.IsPopulated(pfn))
        {
            return;
        }

        if (!CanPopulate(pfn, out string reason))
        {
            throw new DomainException(reason);
        }

        OnPopulate(pfn);
        _memory.MarkPopulated(pfn, PageType.Normal);
    }

    /// <summary>Populates every pfn in <paramref name="pfns"/> (duplicates tolerated).</summary>
    public void Populate(ReadOnlySpan<ulong> pfns)
    {
        foreach (ulong pfn in pfns)
        {
            Populate(pfn);
        }
    }

    /// <summary>Removes the frame behind <paramref name="pfn"/> (balloon out); its contents are lost.</summary>
    public void Depopulate(ulong pfn)
    {
        ThrowIfDiscarded();
        if (!_memory.IsPopulated(pfn))
        {
            return;
        }

        OnDepopulate(pfn);
        _memory.MarkUnpopulated(pfn);
    }

    /// <summary>Marks a populated page broken (poisoned by a machine check). Its contents are dropped.</summary>
    public void MarkBroken(ulong pfn)
    {
        RequirePopulated(pfn);
        _memory.Contents.Release(pfn);
        _memory.SetInfo(pfn, new PageInfo(PageType.Broken, false));
    }

    /// <summary>The page's contents (zeros if never written). The span is valid until the page is next written or released.</summary>
    public ReadOnlySpan<byte> ReadPage(ulong pfn)
    {
        RequirePopulated(pfn);
        return _memory.Contents.Read(pfn);
    }

    /// <summary>
    /// The page's contents as memory, for asynchronous writers. Same validity as <see cref="ReadPage"/>, and never past
    /// <see cref="Discard"/>: a discarded domain's page buffers go back to a pool that later domains reuse.
    /// </summary>
    public ReadOnlyMemory<byte> ReadPageMemory(ulong pfn)
    {
        RequirePopulated(pfn);
        return _memory.Contents.ReadMemory(pfn);
    }

    /// <summary>True if the page has an allocated buffer (false means it certainly reads as zeros).</summary>
    public bool IsPageMaterialised(ulong pfn) => _memory.Contents.IsMaterialised(pfn);

    /// <summary>A writable view of the page, allocating its buffer if needed. Counts as a guest write (dirty log).</summary>
    public Span<byte> GetWritablePage(ulong pfn)
    {
        RequirePopulated(pfn);
        if (_memory.Info(pfn).Type == PageType.Broken)
        {
            throw new DomainException($"pfn 0x{pfn:x} is broken; it cannot be written");
        }

        _memory.DirtyLog.Mark(pfn);
        return _memory.Contents.GetWritable(pfn);
    }

    /// <summary>Replaces the page's contents (4096 bytes). Zeros release the buffer. Counts as a guest write.</summary>
    public void WritePage(ulong pfn, ReadOnlySpan<byte> data)
    {
        RequirePopulated(pfn);
        if (_memory.Info(pfn).Type == PageType.Broken)
        {
            throw new DomainException($"pfn 0x{pfn:x} is broken; it cannot be written");
        }

        _memory.Contents.Write(pfn, data);
        _memory.DirtyLog.Mark(pfn);
    }

    /// <summary>Zeroes the page (xc_clear_domain_page).</summary>
    public void ClearPage(ulong pfn)
    {
        RequirePopulated(pfn);
        _memory.Contents.Release(pfn);
        _memory.DirtyLog.Mark(pfn);
    }

    /// <summary>Populated pfns in ascending order.</summary>
    public IEnumerable<ulong> PopulatedPfns() => _memory.PopulatedPfns();

    /// <summary>
    /// True for pages the guest kernel itself manages as structures the toolstack also knows
    /// (page tables, start_info, p2m frames, GDTs, magic/ring pages). Workloads leave them alone.
    /// </summary>
    public bool IsStructuralPage(ulong pfn)
    {
        if (_memory.Info(pfn).IsPageTable)
        {
            return true;
        }

        var set = new PfnBitmap();
        AddStructuralPfns(set);
        return set.Contains(pfn);
    }

    /// <summary>Populated Normal pages that are not structural: what a workload may dirty. Ascending.</summary>
    public IEnumerable<ulong> DataPfns()
    {
        var structural = new PfnBitmap();
        AddStructuralPfns(structural);
        foreach (ulong pfn in PopulatedPfns())
        {
            if (_memory.Info(pfn).Type == PageType.Normal && !structural.Contains(pfn))
            {
                yield return pfn;
            }
        }
    }

    // ------------------------------------------------------------------ vCPUs

    /// <summary>True if vCPU <paramref name="vcpu"/> is online (has state to migrate).</summary>
    public abstract bool IsVcpuOnline(int vcpu);

    /// <summary>The online vCPU ids, ascending.</summary>
    public IEnumerable<int> OnlineVcpus()
    {
        for (int i = 0; i < MaxVcpus; i++)
        {
            if (IsVcpuOnline(i))
            {
                yield return i;
            }
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /// <summary>
    /// Checks the domain's invariants and returns every problem found (empty when consistent):
    /// what Xen's stream_complete and the hypervisor would refuse.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        ThrowIfDiscarded();
        var problems = new List<string>();
        if (!IsVcpuOnline(0))
        {
            problems.Add("vcpu0 is offline (a domain needs vcpu0's state)");
        }

        ValidateCore(problems);
        return problems;
    }

    /// <summary>Validates and moves a Building domain to Ready. Throws (listing the problems) if invalid.</summary>
    public void Complete()
    {
        ThrowIfDiscarded();
        IReadOnlyList<string> problems = Validate();
        if (problems.Count > 0)
        {
            throw new DomainException($"domain is not consistent ({problems.Count} problem(s)): {string.Join("; ", problems)}");
        }

        Lifecycle = DomainLifecycle.Ready;
    }

    /// <summary>Moves a domain to Ready without validating (for deliberately broken fixtures).</summary>
    public void MarkReadyUnchecked()
    {
        ThrowIfDiscarded();
        Lifecycle = DomainLifecycle.Ready;
    }

    /// <summary>Throws the domain away: its memory is released and every later operation refuses.</summary>
    public void Discard() => Dispose();

    /// <summary>Same as <see cref="Discard"/>.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the domain's memory.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (Lifecycle == DomainLifecycle.Discarded)
        {
            return;
        }

        Lifecycle = DomainLifecycle.Discarded;
        if (disposing)
        {
            Interlocked.Exchange(ref _streamingDigest, null)?.Dispose(); // its thread reads the pages
            _memory.Clear();
        }
    }

    /// <summary>A deep, independent copy (same lifecycle, same frames, same contents).</summary>
    public abstract GuestDomain Clone();

    /// <summary>The stable digest of the guest-visible state (see <see cref="DomainDigest"/>).</summary>
    public DomainDigest ComputeDigest()
    {
        // A digest hashed while a restore filled the domain (StreamingDigest) is taken when it still holds.
        StreamingDigest? ahead = Interlocked.Exchange(ref _streamingDigest, null);
        if (ahead is not null)
        {
            using (ahead)
            {
                if (ahead.TryFinish() is { } digest)
                {
                    return digest;
                }
            }
        }

        return DomainDigest.Compute(this);
    }

    internal void AttachStreamingDigest(StreamingDigest digest)
    {
        Interlocked.Exchange(ref _streamingDigest, digest)?.Dispose();
    }

    internal void WatchPagesBelow(ulong pfn) => _memory.Contents.Watch(pfn);

    internal ulong? PageBelowWatchChanged => _memory.Contents.WatchTripped ? _memory.Contents.WatchTrippedBy : null;

    // ------------------------------------------------------------------ for subclasses

    private protected abstract bool CanPopulateCore(ulong pfn, out string reason);

    private protected abstract void OnPopulate(ulong pfn);

    private protected abstract void OnDepopulate(ulong pfn);

    private protected abstract void ValidateCore(List<string> problems);

    /// <summary>Adds the non-page-table structural pfns (start_info, rings, p2m frames, GDTs, magic pages).</summary>
    private protected abstract void AddStructuralPfns(PfnBitmap set);

    private protected void CopyCommonStateTo(GuestDomain copy)
    {
        copy._memory = _memory.Clone();
        copy.Lifecycle = Lifecycle;
        copy.Tsc = Tsc;
        copy._cpuid.AddRange(_cpuid);
        copy._msrPolicy.AddRange(_msrPolicy);
    }

    private protected void ThrowIfDiscarded() =>
        ObjectDisposedException.ThrowIf(Lifecycle == DomainLifecycle.Discarded, this);

    private protected void RequirePopulated(ulong pfn)
    {
        ThrowIfDiscarded();
        if (!_memory.IsPopulated(pfn))
        {
            throw new DomainException($"pfn 0x{pfn:x} is not populated");
        }
    }

    private protected void RequireVcpu(int vcpu)
    {
        if ((uint)vcpu >= (uint)MaxVcpus)
        {
            throw new DomainException($"vcpu {vcpu} is out of range (the domain has {MaxVcpus} vcpus)");
        }
    }
}
