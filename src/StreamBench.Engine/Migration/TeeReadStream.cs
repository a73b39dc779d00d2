namespace StreamBench.Engine.Migration;

/// <summary>
/// A read-only stream that hands every byte it reads from <c>inner</c> to a second sink as well (the on-the-fly
/// verifier). If the sink fails (its reader stopped early), teeing stops and reading goes on.
/// </summary>
internal sealed class TeeReadStream(Stream inner, Stream sink) : Stream
{
    private bool _sinkBroken;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        if (n > 0 && !_sinkBroken)
        {
            try
            {
                sink.Write(buffer[..n]);
            }
            catch (IOException)
            {
                _sinkBroken = true;
            }
        }

        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
