namespace StreamBench.Fuzz.Targets;

/// <summary>
/// A read-only, non-seekable view of bytes in memory that returns short reads (at most <see cref="MaxRead"/> bytes per
/// call), like a pipe or a TCP socket during a live migration. Readers over it take the buffered path
/// (<c>BufferedByteSource</c>): window refills, compaction, skipping by reading, bodies larger than the window.
/// </summary>
internal sealed class PipeLikeStream : Stream
{
    /// <summary>Largest chunk one <see cref="Read(Span{byte})"/> returns (an Ethernet frame's payload).</summary>
    public const int MaxRead = 1448;

    private ReadOnlyMemory<byte> _data;
    private int _position;

    public PipeLikeStream(ReadOnlyMemory<byte> data) => _data = data;

    /// <summary>Starts over on new bytes (the stream is reused across executions).</summary>
    public void Reset(ReadOnlyMemory<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException("a pipe has no length");

    public override long Position
    {
        get => throw new NotSupportedException("a pipe has no position");
        set => throw new NotSupportedException("a pipe cannot seek");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(Math.Min(buffer.Length, MaxRead), _data.Length - _position);
        _data.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a pipe cannot seek");

    public override void SetLength(long value) => throw new NotSupportedException("read-only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("read-only");
}
