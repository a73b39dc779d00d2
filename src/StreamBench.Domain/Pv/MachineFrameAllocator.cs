using StreamBench.Domain.Determinism;

namespace StreamBench.Domain.Pv;

/// <summary>
/// The host's machine frames. Hands out mfns in a scattered but deterministic order (a seeded
/// bijection over a power-of-two range), so a guest's pfn→mfn map is never the identity and
/// never the same for two seeds: normalisation (mfn→pfn) is really exercised. Freed frames are
/// reused last-in first-out. Several domains may share one allocator (one host), which is how
/// a local migration ends up with different frames on each side.
/// </summary>
public sealed class MachineFrameAllocator
{
    private readonly Stack<ulong> _free;
    private readonly int _bits;
    private readonly ulong _multiplier1;
    private readonly ulong _multiplier2;
    private readonly ulong _offset;
    private ulong _next;

    /// <summary>The first frame of the host range: low frames (and mfn 0) are never handed out.</summary>
    public const ulong FirstFrame = 0x1000;

    /// <summary>
    /// Creates an allocator over 2^<paramref name="frameBits"/> frames starting at
    /// <see cref="FirstFrame"/>. The default (2^22 frames) is a 16 GiB host.
    /// </summary>
    public MachineFrameAllocator(ulong seed, int frameBits = 22)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameBits, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frameBits, 31);
        Seed = seed;
        _bits = frameBits;
        _multiplier1 = SplitMix64.Derive(seed, 1) | 1;
        _multiplier2 = SplitMix64.Derive(seed, 2) | 1;
        _offset = SplitMix64.Derive(seed, 3);
        _free = new Stack<ulong>();
    }

    private MachineFrameAllocator(MachineFrameAllocator other)
    {
        Seed = other.Seed;
        _bits = other._bits;
        _multiplier1 = other._multiplier1;
        _multiplier2 = other._multiplier2;
        _offset = other._offset;
        _next = other._next;
        _free = new Stack<ulong>(other._free.Reverse());
        Allocated = other.Allocated;
    }

    /// <summary>The seed the frame order derives from.</summary>
    public ulong Seed { get; }

    /// <summary>Frames in the host range.</summary>
    public ulong TotalFrames => 1ul << _bits;

    /// <summary>The highest mfn this host has (Xen's max_mfn / xc_maximum_ram_page).</summary>
    public ulong MaxMfn => FirstFrame + TotalFrames - 1;

    /// <summary>Frames currently handed out.</summary>
    public ulong Allocated { get; private set; }

    /// <summary>An independent copy in the same state.</summary>
    public MachineFrameAllocator Clone() => new(this);

    /// <summary>Allocates one frame. Throws when the host is out of memory.</summary>
    public ulong Allocate()
    {
        ulong mfn;
        if (_free.Count > 0)
        {
            mfn = _free.Pop();
        }
        else
        {
            if (_next >= TotalFrames)
            {
                throw new DomainException($"host out of machine frames ({TotalFrames} frames, all allocated)");
            }

            mfn = FirstFrame + Permute(_next++);
        }

        Allocated++;
        return mfn;
    }

    /// <summary>Returns a frame to the host.</summary>
    public void Free(ulong mfn)
    {
        if (mfn < FirstFrame || mfn > MaxMfn)
        {
            throw new ArgumentOutOfRangeException(nameof(mfn), mfn, "frame is outside the host range");
        }

        _free.Push(mfn);
        Allocated--;
    }

    // A bijection on [0, 2^bits): odd multiply, add, xorshift, odd multiply (each step is invertible mod 2^bits).
    private ulong Permute(ulong index)
    {
        ulong mask = TotalFrames - 1;
        ulong x = (index * _multiplier1 + _offset) & mask;
        x ^= x >> ((_bits + 1) / 2);
        x = (x * _multiplier2) & mask;
        x ^= x >> (_bits / 3 + 1);
        return x & mask;
    }
}
