namespace StreamBench.Tests.Support;

/// <summary>A non-seekable stream that hands out its bytes in small, irregular reads, as a pipe or socket does.</summary>
public sealed class TrickleStream(byte[] data, int maxChunk = 4093, int seed = 7) : Stream
{
    private readonly Random _random = new(seed);
    private int _pos;

    /// <inheritdoc />
    public override bool CanRead => true;
    /// <inheritdoc />
    public override bool CanSeek => false;
    /// <inheritdoc />
    public override bool CanWrite => false;
    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();
    /// <inheritdoc />
    public override long Position { get => _pos; set => throw new NotSupportedException(); }
    /// <inheritdoc />
    public override void Flush() { }
    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(Math.Min(buffer.Length, data.Length - _pos), 1 + _random.Next(maxChunk));
        data.AsSpan(_pos, n).CopyTo(buffer);
        _pos += n;
        return n;
    }
    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
