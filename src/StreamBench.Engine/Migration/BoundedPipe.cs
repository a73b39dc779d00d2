namespace StreamBench.Engine.Migration;

/// <summary>
/// An in-process pipe: a writer stream and a reader stream over one bounded ring buffer, for two threads. A full
/// buffer blocks the writer, an empty one the reader; closing the writer gives the reader end-of-file once the buffer
/// drains; closing the reader makes further writes fail with <see cref="IOException"/> ("broken pipe"), so neither
/// side can hang when the other gives up.
/// </summary>
public sealed class BoundedPipe
{
    private readonly object _gate = new();
    private readonly byte[] _ring;
    private int _head;
    private int _count;
    private bool _writerClosed;
    private bool _readerClosed;

    /// <summary>A pipe holding at most <paramref name="capacity"/> bytes in flight.</summary>
    public BoundedPipe(int capacity = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 4096);
        _ring = new byte[capacity];
        Writer = new WriterStream(this);
        Reader = new ReaderStream(this);
    }

    /// <summary>The write end (disposing it closes it).</summary>
    public Stream Writer { get; }

    /// <summary>The read end (disposing it closes it).</summary>
    public Stream Reader { get; }

    /// <summary>Bytes written in all.</summary>
    public long BytesWritten { get; private set; }

    private void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            lock (_gate)
            {
                while (_count == _ring.Length && !_readerClosed)
                {
                    Monitor.Wait(_gate);
                }

                if (_readerClosed)
                {
                    throw new IOException("broken pipe: the reading end is closed");
                }

                ObjectDisposedException.ThrowIf(_writerClosed, Writer);
                int tail = (_head + _count) % _ring.Length;
                int n = Math.Min(data.Length, Math.Min(_ring.Length - _count, _ring.Length - tail));
                data[..n].CopyTo(_ring.AsSpan(tail, n));
                _count += n;
                BytesWritten += n;
                data = data[n..];
                Monitor.PulseAll(_gate);
            }
        }
    }

    private int Read(Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        lock (_gate)
        {
            while (_count == 0 && !_writerClosed && !_readerClosed)
            {
                Monitor.Wait(_gate);
            }

            if (_count == 0)
            {
                return 0;
            }

            int total = 0;
            while (_count > 0 && !destination.IsEmpty)
            {
                int n = Math.Min(destination.Length, Math.Min(_count, _ring.Length - _head));
                _ring.AsSpan(_head, n).CopyTo(destination);
                _head = (_head + n) % _ring.Length;
                _count -= n;
                total += n;
                destination = destination[n..];
            }

            Monitor.PulseAll(_gate);
            return total;
        }
    }

    private void CloseWriter()
    {
        lock (_gate)
        {
            _writerClosed = true;
            Monitor.PulseAll(_gate);
        }
    }

    private void CloseReader()
    {
        lock (_gate)
        {
            _readerClosed = true;
            Monitor.PulseAll(_gate);
        }
    }

    private abstract class EndStream(BoundedPipe pipe) : Stream
    {
        protected BoundedPipe Pipe { get; } = pipe;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private sealed class WriterStream(BoundedPipe pipe) : EndStream(pipe)
    {
        public override bool CanRead => false;

        public override bool CanWrite => true;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Pipe.Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => Pipe.Write(buffer);

        protected override void Dispose(bool disposing)
        {
            Pipe.CloseWriter();
            base.Dispose(disposing);
        }
    }

    private sealed class ReaderStream(BoundedPipe pipe) : EndStream(pipe)
    {
        public override bool CanRead => true;

        public override bool CanWrite => false;

        public override int Read(byte[] buffer, int offset, int count) => Pipe.Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer) => Pipe.Read(buffer);

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Pipe.CloseReader();
            base.Dispose(disposing);
        }
    }
}
