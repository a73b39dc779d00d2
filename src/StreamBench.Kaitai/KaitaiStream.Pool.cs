namespace Kaitai;

public partial class KaitaiStream
{
    [ThreadStatic]
    private static KaitaiArrayPool? t_pool;

    /// <summary>
    /// Until the returned scope is disposed, <see cref="ReadBytes(long)"/> on this thread takes arrays of
    /// <see cref="KaitaiArrayPool.MinLength"/> bytes or more from <paramref name="pool"/> (every stream, substreams
    /// included). The caller returns them once nothing refers to them any more.
    /// </summary>
    public static PoolScope UsePool(KaitaiArrayPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var previous = t_pool;
        t_pool = pool;
        return new PoolScope(previous);
    }

    /// <summary>Restores the pool in use before <see cref="UsePool"/>.</summary>
    public readonly struct PoolScope : IDisposable
    {
        private readonly KaitaiArrayPool? _previous;

        internal PoolScope(KaitaiArrayPool? previous) => _previous = previous;

        /// <inheritdoc/>
        public void Dispose() => t_pool = _previous;
    }

    // A copy of `bytes` in an array of the pool in use (or a new one).
    private static byte[] ToPooledArray(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < KaitaiArrayPool.MinLength || t_pool is not { } pool)
        {
            return bytes.ToArray();
        }

        var array = pool.Rent(bytes.Length);
        bytes.CopyTo(array);
        return array;
    }
}
