using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Input;

/// <summary>A forward-only read <see cref="Stream"/> over a <see cref="ByteSource"/> (for the zstd decoder and the tools).</summary>
internal sealed class ByteSourceReadStream(ByteSource source) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => source.Position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => source.Read(buffer.AsSpan(offset, count));
    public override int Read(Span<byte> buffer) => source.Read(buffer);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
