using StreamBench.Domain;
using StreamBench.Domain.Determinism;

namespace StreamBench.Engine.Restore;

/// <summary>
/// The guest's vCPU after a post-copy transition: a fixed, seeded sequence of page touches (90% of them in a hot set
/// of a tenth of the data pages), each writing a word into its page. The destination runs it while pages are still
/// missing (a touch of an absent page blocks); a reference run applies the same sequence to the source's state at
/// transition, so the two final digests must be equal whatever order the pages arrived in.
/// </summary>
public sealed class PostcopyGuest
{
    private readonly ulong[] _sequence;

    /// <summary>A vCPU that will touch <paramref name="touches"/> pages among <paramref name="candidates"/>.</summary>
    public PostcopyGuest(IReadOnlyList<ulong> candidates, ulong seed, int touches = 512)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(touches);
        _sequence = new ulong[candidates.Count == 0 ? 0 : touches];
        var rng = new SplitMix64(seed);
        int hot = Math.Max(1, candidates.Count / 10);
        for (int i = 0; i < _sequence.Length; i++)
        {
            ulong r = rng.Next();
            int index = r % 10 < 9 ? (int)((r >> 8) % (ulong)hot) : (int)((r >> 8) % (ulong)candidates.Count);
            _sequence[i] = candidates[index];
        }
    }

    /// <summary>Touches in the sequence.</summary>
    public int Touches => _sequence.Length;

    /// <summary>Touches done so far.</summary>
    public int Done { get; private set; }

    /// <summary>True once every touch is done.</summary>
    public bool Finished => Done == _sequence.Length;

    /// <summary>The pfn the next touch needs, or null when finished.</summary>
    public ulong? Next => Finished ? null : _sequence[Done];

    /// <summary>
    /// Runs at most <paramref name="budget"/> touches; stops at the first whose page is not <paramref name="present"/>
    /// and returns that pfn (the vCPU blocks on it), else null.
    /// </summary>
    public ulong? Run(GuestDomain domain, Func<ulong, bool> present, int budget)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(present);
        for (int n = 0; n < budget && !Finished; n++)
        {
            ulong pfn = _sequence[Done];
            if (!present(pfn))
            {
                return pfn;
            }

            Touch(domain, Done, pfn);
            Done++;
        }

        return null;
    }

    /// <summary>The reference run: every remaining touch, every page present.</summary>
    public void RunAll(GuestDomain domain) => Run(domain, _ => true, int.MaxValue);

    /// <summary>A fresh copy with nothing done (for a reference run).</summary>
    public PostcopyGuest Restart() => new(_sequence);

    private PostcopyGuest(ulong[] sequence) => _sequence = sequence;

    // A touch of a page the guest does not have (unpopulated, broken) does nothing, on both runs alike.
    private static void Touch(GuestDomain domain, int i, ulong pfn)
    {
        if (!domain.IsPopulated(pfn) || domain.GetPageInfo(pfn).Type != Domain.Pages.PageType.Normal)
        {
            return;
        }

        Span<byte> page = domain.GetWritablePage(pfn);
        int offset = (i * 8) % page.Length;
        BitConverter.TryWriteBytes(page[offset..], (ulong)(i + 1) * 0x9E3779B97F4A7C15UL);
    }
}
