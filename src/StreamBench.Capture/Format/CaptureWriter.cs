using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Format;

/// <summary>
/// Appends chunks to a capture. Each chunk goes out in one positioned gather write (header, payload, CRC32C), with no
/// user-space buffering in between: once <see cref="WriteData"/> returns, the bytes are in the kernel and survive a
/// kill -9 of this process. A chunk half-written when the process dies fails its CRC (or is short), so readers stop
/// right before it (docs/CAPTURE.md, "Crash safety"). Not thread-safe: one thread writes.
/// </summary>
public sealed class CaptureWriter : IDisposable
{
    private readonly SafeFileHandle? _handle;
    private readonly Stream? _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _header = new byte[CaptureWire.ChunkHeaderSize];
    private readonly byte[] _crc = new byte[CaptureWire.ChunkCrcSize];
    private readonly ReadOnlyMemory<byte>[] _gather = new ReadOnlyMemory<byte>[3];
    private readonly long[] _positions = new long[2];
    private readonly long[] _indexEntries = new long[2];
    private uint _ended;
    private uint _sequence;
    private long _length;
    private bool _completed;

    private CaptureWriter(SafeFileHandle? handle, Stream? stream, bool leaveOpen, CaptureClock clock)
    {
        _handle = handle;
        _stream = stream;
        _leaveOpen = leaveOpen;
        Clock = clock;
        var header = new CaptureFileHeader(CaptureWire.VersionMajor, CaptureWire.VersionMinor, clock.StartUnixNanoseconds, 0).ToBytes();
        Append(header, default, default);
    }

    /// <summary>Creates (or truncates) the capture at <paramref name="path"/> and writes the file header.</summary>
    /// <remarks>Through <see cref="OutputFile"/>: a new capture is not truncated, which would make ext4 write the whole
    /// file back in the final close.</remarks>
    public static CaptureWriter Create(string path, CaptureClock? clock = null)
    {
        var handle = OutputFile.OpenHandle(path);
        try
        {
            return new CaptureWriter(handle, null, false, clock ?? new CaptureClock());
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Writes a capture to a stream (a pipe, or memory in tests).</summary>
    public static CaptureWriter ToStream(Stream output, CaptureClock? clock = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        return new CaptureWriter(null, output, leaveOpen, clock ?? new CaptureClock());
    }

    /// <summary>The clock whose timestamps the chunks carry.</summary>
    public CaptureClock Clock { get; }

    /// <summary>Bytes written so far.</summary>
    public long Length => _length;

    /// <summary>Chunks written so far.</summary>
    public long ChunkCount => _sequence;

    /// <summary>Bytes of <paramref name="direction"/> written so far.</summary>
    public long PositionOf(CaptureDirection direction) => _positions[(int)direction];

    /// <summary>Index entries of <paramref name="direction"/> written so far.</summary>
    public long IndexEntriesOf(CaptureDirection direction) => _indexEntries[(int)direction];

    /// <summary>A metadata chunk.</summary>
    public void WriteMetadata(CaptureMetadata metadata, long? timestamp = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        WriteChunk(CaptureChunkType.Metadata, CaptureWire.NoDirection, 0, timestamp ?? Clock.Now, metadata.ToPayload());
    }

    /// <summary>A data chunk: the next <paramref name="payload"/>.Length bytes of <paramref name="direction"/>.</summary>
    public void WriteData(CaptureDirection direction, ReadOnlyMemory<byte> payload, long timestamp)
    {
        if (payload.Length > CaptureWire.MaxChunkPayload)
        {
            for (var at = 0; at < payload.Length; at += CaptureWire.MaxDataPayload)
            {
                WriteData(direction, payload.Slice(at, Math.Min(CaptureWire.MaxDataPayload, payload.Length - at)), timestamp);
            }
            return;
        }
        var d = (int)direction;
        WriteChunk(CaptureChunkType.Data, (byte)direction, _positions[d], timestamp, payload);
        _positions[d] += payload.Length;
    }

    /// <summary>An index chunk: the next entries of <paramref name="direction"/>'s index.</summary>
    public void WriteIndex(CaptureDirection direction, ReadOnlySpan<CaptureIndexEntry> entries, long? timestamp = null)
    {
        const int perChunk = CaptureWire.MaxDataPayload / CaptureWire.IndexEntrySize;
        while (!entries.IsEmpty)
        {
            var n = Math.Min(perChunk, entries.Length);
            var payload = new byte[n * CaptureWire.IndexEntrySize];
            for (var i = 0; i < n; i++)
            {
                entries[i].Write(payload.AsSpan(i * CaptureWire.IndexEntrySize));
            }
            var d = (int)direction;
            WriteChunk(CaptureChunkType.Index, (byte)direction, _indexEntries[d], timestamp ?? Clock.Now, payload);
            _indexEntries[d] += n;
            entries = entries[n..];
        }
    }

    /// <summary>An event chunk. A <see cref="CaptureEventCode.DirectionEnd"/> also sets the footer's end flag.</summary>
    public void WriteEvent(CaptureEvent e)
    {
        if (e.Code == CaptureEventCode.DirectionEnd && e.Direction is { } dir)
        {
            _ended |= dir == CaptureDirection.SenderToReceiver ? CaptureFooter.SenderEnded : CaptureFooter.ReceiverEnded;
        }
        WriteChunk(CaptureChunkType.Event, e.Direction is { } d ? (byte)d : CaptureWire.NoDirection, e.Value, e.Timestamp, e.ToPayload());
    }

    /// <summary>An event chunk stamped now.</summary>
    public void WriteEvent(CaptureEventCode code, CaptureDirection? direction, long value, string text = "")
        => WriteEvent(new CaptureEvent(code, direction, value, text, Clock.Now));

    /// <summary>Writes the footer: the capture is complete. Further writes fail.</summary>
    public CaptureFooter Complete()
    {
        var footer = new CaptureFooter(_positions[0], _positions[1], _sequence, _indexEntries[0], _indexEntries[1], _ended);
        WriteChunk(CaptureChunkType.Footer, CaptureWire.NoDirection, 0, Clock.Now, footer.ToPayload());
        _completed = true;
        _stream?.Flush();
        return footer;
    }

    /// <summary>Any chunk, as is (the scrubber copies chunks with it).</summary>
    internal void WriteChunk(CaptureChunkType type, byte direction, long position, long timestamp, ReadOnlyMemory<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (payload.Length > CaptureWire.MaxChunkPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "chunk payload over the format's limit");
        }
        new CaptureChunkHeader(type, direction, 0, payload.Length, _sequence, timestamp, position).Write(_header);
        var crc = Crc32C.Append(Crc32C.Compute(_header), payload.Span);
        BinaryPrimitives.WriteUInt32LittleEndian(_crc, crc);
        Append(_header, payload, _crc);
        _sequence++;
    }

    private void Append(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b, ReadOnlyMemory<byte> c)
    {
        if (_handle is not null)
        {
            _gather[0] = a;
            _gather[1] = b;
            _gather[2] = c;
            RandomAccess.Write(_handle, _gather, _length);
            _gather[1] = default;
        }
        else
        {
            _stream!.Write(a.Span);
            _stream.Write(b.Span);
            _stream.Write(c.Span);
        }
        _length += a.Length + b.Length + c.Length;
    }

    /// <summary>Flushes a stream target (a file target has nothing buffered).</summary>
    public void Flush() => _stream?.Flush();

    /// <summary>Forces the file's bytes to stable storage (fsync); only for power-loss safety, not needed for kill -9.</summary>
    public void Sync()
    {
        if (_handle is not null)
        {
            RandomAccess.FlushToDisk(_handle);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _handle?.Dispose();
        if (_stream is not null && !_leaveOpen)
        {
            _stream.Dispose();
        }
    }
}
