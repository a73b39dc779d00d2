namespace StreamBench.Capture.Recording;

/// <summary>
/// A large buffer that a pump reads into and that several consumers (the forwarder, the capture writer, the indexer)
/// read from; it goes back to its pool when the last reference is released. No byte is copied between them.
/// </summary>
internal sealed class Slab
{
    private readonly SlabPool _pool;
    private int _references;

    public Slab(SlabPool pool, int size)
    {
        _pool = pool;
        Buffer = new byte[size];
    }

    public byte[] Buffer { get; }

    public void Reset() => _references = 1;

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            _pool.Return(this);
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("slab released more often than referenced");
        }
    }
}

/// <summary>
/// A bounded pool of slabs, allocated on demand. When every slab is in use the pump waits: the recorder never drops
/// bytes, so a capture disk slower than the link slows the link (docs/CAPTURE.md).
/// </summary>
internal sealed class SlabPool : IDisposable
{
    private readonly Stack<Slab> _free = new();
    private readonly SemaphoreSlim _available;
    private readonly int _size;

    public SlabPool(int slabSize, int maxSlabs)
    {
        _size = slabSize;
        _available = new SemaphoreSlim(maxSlabs, maxSlabs);
    }

    public int SlabSize => _size;

    public Slab Rent()
    {
        _available.Wait();
        Slab? slab;
        lock (_free)
        {
            _free.TryPop(out slab);
        }
        slab ??= new Slab(this, _size);
        slab.Reset();
        return slab;
    }

    public void Return(Slab slab)
    {
        lock (_free)
        {
            _free.Push(slab);
        }
        _available.Release();
    }

    public void Dispose() => _available.Dispose();
}

/// <summary>A piece of a slab handed from a pump to the capture writer, or an event in the same order as the data.</summary>
internal readonly record struct Piece(Slab? Slab, int Offset, int Length, long Timestamp, Format.CaptureDirection Direction, Format.CaptureEvent? Event);
