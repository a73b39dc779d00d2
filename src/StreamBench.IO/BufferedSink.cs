namespace StreamBench.Formats.Streams;

/// <summary>
/// The buffered output core the stream writers share (the v2 writer and the legacy one): small writes gather in one
/// buffer, a write of at least half the buffer goes straight through, and <see cref="Position"/> counts every byte
/// written or skipped. The writers own the format; this owns the bytes. It does not own <see cref="Output"/>.
/// </summary>
public sealed class BufferedSink
{
    private readonly byte[] _buffer;
    private int _used;

    /// <summary>Buffers writes to <paramref name="output"/> in <paramref name="bufferSize"/> bytes.</summary>
    public BufferedSink(Stream output, int bufferSize = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 64);
        Output = output;
        _buffer = new byte[bufferSize];
    }

    /// <summary>The stream the bytes go to.</summary>
    public Stream Output { get; }

    /// <summary>Bytes handed to <see cref="Output"/> (written, or skipped by <see cref="Skip"/>).</summary>
    public long Flushed { get; private set; }

    /// <summary>Bytes written so far, buffered ones included.</summary>
    public long Position => Flushed + _used;

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= _buffer.Length - _used)
        {
            bytes.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
            return;
        }
        FlushBuffer();
        if (bytes.Length >= _buffer.Length / 2)
        {
            Output.Write(bytes);
            Flushed += bytes.Length;
        }
        else
        {
            bytes.CopyTo(_buffer);
            _used = bytes.Length;
        }
    }

    /// <summary><paramref name="count"/> bytes of the buffer to fill in place (at most the buffer's size).</summary>
    public Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _used < count)
        {
            FlushBuffer();
        }
        var span = _buffer.AsSpan(_used, count);
        _used += count;
        return span;
    }

    /// <summary>Seeks <paramref name="length"/> bytes past the end without writing them (a hole in a seekable file).</summary>
    public void Skip(long length)
    {
        FlushBuffer();
        Output.Seek(length, SeekOrigin.Current);
        Flushed += length;
    }

    /// <summary>
    /// Copies up to <paramref name="count"/> bytes of the regular file <paramref name="input"/> from
    /// <paramref name="offset"/> to the output inside the kernel (<see cref="KernelCopy"/>), after the buffered bytes.
    /// Only when <see cref="Output"/> is a <see cref="FileStream"/>: a regular file (copy_file_range at its position,
    /// which then moves past the bytes) or a pipe (sendfile). Returns the bytes copied, 0 when the kernel will not.
    /// </summary>
    public long CopyFromFile(Microsoft.Win32.SafeHandles.SafeFileHandle input, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Output is not FileStream file || count <= 0 || KernelCopy.Unavailable)
        {
            return 0;
        }
        FlushBuffer();
        file.Flush(); // the FileStream's own buffer, before its handle is written behind its back
        long copied;
        if (file.CanSeek)
        {
            var at = file.Position;
            copied = KernelCopy.Copy(input, offset, file.SafeFileHandle, at, count);
            if (copied > 0)
            {
                file.Position = at + copied;
            }
        }
        else
        {
            copied = KernelCopy.Copy(input, offset, file.SafeFileHandle, null, count);
        }
        Flushed += copied;
        return copied;
    }

    /// <summary>Hands the buffered bytes to <see cref="Output"/> (without flushing it).</summary>
    public void FlushBuffer()
    {
        if (_used > 0)
        {
            Output.Write(_buffer, 0, _used);
            Flushed += _used;
            _used = 0;
        }
    }
}
