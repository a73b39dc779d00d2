using System.Buffers.Binary;
using StreamBench.Domain.Determinism;

namespace StreamBench.Domain.Workloads;

/// <summary>Which pages a workload dirties.</summary>
public enum WorkloadPattern
{
    /// <summary>Every data page equally likely.</summary>
    Uniform,

    /// <summary>A fixed hot subset receives most writes (a working set); the rest spread uniformly.</summary>
    HotSet,

    /// <summary>A cursor walks the data pages in order, wrapping (a streaming writer).</summary>
    Sequential,
}

/// <summary>How a workload behaves.</summary>
/// <param name="Pattern">Page choice.</param>
/// <param name="PagesPerTick">Page writes per simulated tick.</param>
/// <param name="Seed">Seed: the same seed on the same domain gives the same writes.</param>
public sealed record WorkloadOptions(WorkloadPattern Pattern, int PagesPerTick, ulong Seed)
{
    /// <summary>HotSet: fraction of data pages in the hot set.</summary>
    public double HotSetFraction { get; init; } = 0.1;

    /// <summary>HotSet: fraction of writes that land in the hot set.</summary>
    public double HotWriteShare { get; init; } = 0.9;

    /// <summary>Bytes each write changes (a multiple of 8, 8..4096).</summary>
    public int BytesPerWrite { get; init; } = 64;
}

/// <summary>What one <see cref="Workload.Step"/> did.</summary>
/// <param name="Ticks">Ticks simulated.</param>
/// <param name="Writes">Page writes made.</param>
/// <param name="DistinctPages">Distinct pages written.</param>
public readonly record struct WorkloadStepResult(int Ticks, long Writes, long DistinctPages);

/// <summary>
/// A guest writing its memory at a set rate and pattern. Only ordinary data pages are written
/// (never page tables, start_info, rings, p2m frames, GDTs or magic pages), through the domain's
/// write path, so the dirty log sees every write. Fully reproducible from the seed.
/// A live migration calls <see cref="Step"/> between pre-copy iterations.
/// </summary>
public sealed class Workload
{
    private const ulong HotTag = 0x484F_5453; // "HOTS"
    private const ulong WriteTag = 0x5752_4954; // "WRIT"

    private readonly ulong[] _candidates;
    private readonly int[] _hot;
    private readonly Xoshiro256StarStar _rng;
    private long _cursor;

    /// <summary>Binds a workload to <paramref name="domain"/>; the candidate pages are fixed now.</summary>
    public Workload(GuestDomain domain, WorkloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.PagesPerTick);
        if (options.BytesPerWrite is < 8 or > 4096 || options.BytesPerWrite % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BytesPerWrite, "BytesPerWrite must be a multiple of 8 in 8..4096");
        }

        if (options.HotSetFraction is <= 0 or > 1 || options.HotWriteShare is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "hot-set fractions must be within (0, 1] and [0, 1]");
        }

        Domain = domain;
        Options = options;
        _candidates = domain.DataPfns().ToArray();
        _rng = new Xoshiro256StarStar(SplitMix64.Derive(options.Seed, WriteTag));
        _hot = options.Pattern == WorkloadPattern.HotSet ? ChooseHotSet(_candidates.Length, options) : [];
    }

    /// <summary>The domain being written.</summary>
    public GuestDomain Domain { get; }

    /// <summary>The options.</summary>
    public WorkloadOptions Options { get; }

    /// <summary>Ticks simulated so far.</summary>
    public long Tick { get; private set; }

    /// <summary>Page writes made so far.</summary>
    public long TotalWrites { get; private set; }

    /// <summary>The pages this workload may write, ascending.</summary>
    public IReadOnlyList<ulong> Candidates => _candidates;

    /// <summary>The hot set's pfns (HotSet pattern only), ascending.</summary>
    public IReadOnlyList<ulong> HotPages => _hot.Select(i => _candidates[i]).Order().ToArray();

    /// <summary>Simulates <paramref name="ticks"/> ticks: <see cref="WorkloadOptions.PagesPerTick"/> writes each.</summary>
    public WorkloadStepResult Step(int ticks = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ticks);
        if (_candidates.Length == 0)
        {
            Tick += ticks;
            return new WorkloadStepResult(ticks, 0, 0);
        }

        var distinct = new HashSet<ulong>();
        long writes = 0;
        for (int t = 0; t < ticks; t++)
        {
            Tick++;
            for (int i = 0; i < Options.PagesPerTick; i++)
            {
                ulong pfn = NextPage();
                WriteStamp(pfn);
                distinct.Add(pfn);
                writes++;
            }
        }

        TotalWrites += writes;
        return new WorkloadStepResult(ticks, writes, distinct.Count);
    }

    private ulong NextPage()
    {
        switch (Options.Pattern)
        {
            case WorkloadPattern.Sequential:
                return _candidates[(int)(_cursor++ % _candidates.Length)];
            case WorkloadPattern.HotSet when _hot.Length > 0 && _rng.NextDouble() < Options.HotWriteShare:
                return _candidates[_hot[_rng.NextInt(_hot.Length)]];
            default:
                return _candidates[_rng.NextInt(_candidates.Length)];
        }
    }

    private void WriteStamp(ulong pfn)
    {
        Span<byte> page = Domain.GetWritablePage(pfn);
        int bytes = Options.BytesPerWrite;
        int offset = _rng.NextInt(((page.Length - bytes) / 8) + 1) * 8;
        Span<byte> target = page.Slice(offset, bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(target, (ulong)Tick);
        _rng.NextBytes(target[8..]);
    }

    private static int[] ChooseHotSet(int count, WorkloadOptions options)
    {
        int hot = (int)Math.Max(1, Math.Min(count, Math.Round(count * options.HotSetFraction)));
        if (count == 0)
        {
            return [];
        }

        var rng = new Xoshiro256StarStar(SplitMix64.Derive(options.Seed, HotTag));
        int[] indices = Enumerable.Range(0, count).ToArray();
        for (int i = 0; i < hot; i++)
        {
            int j = i + rng.NextInt(count - i);
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }

        return indices[..hot];
    }
}
