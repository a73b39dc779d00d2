namespace StreamBench.Fuzzing;

/// <summary>
/// The read-only, seekable stream a target receives. One instance is reused for every input (no allocation per
/// execution); its contents are only valid during the call. Dispose/Close are ignored, so a target may wrap it in
/// readers that close it.
/// </summary>
public sealed class FuzzInputStream : Stream
{
    private byte[] data = [];
    private int length;
    private int position;

    /// <summary>The whole current input, without copying. Valid only during the current execution.</summary>
    public ReadOnlyMemory<byte> Data => new(data, 0, length);

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => true;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => length;

    /// <inheritdoc />
    public override long Position
    {
        get => position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            position = (int)Math.Min(value, length);
        }
    }

    internal void Reset(byte[] input, int count)
    {
        data = input;
        length = count;
        position = 0;
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, length - position);
        if (n <= 0)
        {
            return 0;
        }
        data.AsSpan(position, n).CopyTo(buffer);
        position += n;
        return n;
    }

    /// <inheritdoc />
    public override int ReadByte() => position < length ? data[position++] : -1;

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
        {
            throw new IOException("Seek before the start of the input.");
        }
        position = (int)Math.Min(target, length);
        return position;
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException("The fuzz input is read-only.");

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The fuzz input is read-only.");

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        // Stream.Dispose(bool) holds no state: the stream stays usable and is reused for the next input.
        base.Dispose(disposing);
    }
}
