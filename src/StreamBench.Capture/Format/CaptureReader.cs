using System.Buffers.Binary;
using System.Globalization;

namespace StreamBench.Capture.Format;

/// <summary>How reading a capture ended.</summary>
public enum CaptureEndState
{
    /// <summary>Still reading.</summary>
    None,
    /// <summary>The footer was read: the recorder closed the capture.</summary>
    Complete,
    /// <summary>The file ends on a chunk boundary without a footer: the recorder stopped between two chunks.</summary>
    Unfinished,
    /// <summary>The file ends inside a chunk: the recorder was killed while appending it.</summary>
    Truncated,
    /// <summary>A chunk is damaged (sync word, length, sequence, position or CRC): reading stopped before it.</summary>
    Corrupt,
    /// <summary>
    /// Every chunk is intact (CRCs match), but their contents disagree: an index entry outside its direction's bytes, a
    /// footer whose counts are not the file's, an event with no valid direction, a payload that does not parse
    /// (<see cref="CaptureFile.Inconsistencies"/> lists each). Only <see cref="CaptureFile"/> reports it.
    /// </summary>
    Inconsistent,
}

/// <summary>
/// Reads a capture chunk by chunk and checks each one (sync word, length cap, sequence, position, CRC32C). It never
/// throws on damage after the file header: it stops before the first bad chunk and reports where, why, and how many
/// bytes follow the last good one (<see cref="LostBytes"/>). A payload is never allocated from a length field alone:
/// lengths over <see cref="CaptureWire.MaxChunkPayload"/> are damage, and the buffer grows only as bytes arrive.
/// </summary>
public sealed class CaptureReader : IDisposable
{
    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private readonly byte[] _head = new byte[CaptureWire.ChunkHeaderSize];
    private readonly long[] _positions = new long[2];
    private readonly long[] _indexEntries = new long[2];
    private byte[] _buffer = new byte[64 << 10];
    private long _offset;
    private uint _sequence;
    private bool _footerSeen;

    /// <summary>Reads and checks the file header (throws <see cref="CaptureFormatException"/> if it is not a capture).</summary>
    public CaptureReader(Stream input, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        _input = input;
        _leaveOpen = leaveOpen;
        var h = new byte[CaptureWire.FileHeaderSize];
        var n = input.ReadAtLeast(h, h.Length, throwOnEndOfStream: false);
        Header = CaptureFileHeader.Parse(h.AsSpan(0, n));
        _offset = CaptureWire.FileHeaderSize;
        ValidLength = _offset;
    }

    /// <summary>Opens a capture file for sequential reading.</summary>
    public static CaptureReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20, FileOptions.SequentialScan));

    /// <summary>The file header.</summary>
    public CaptureFileHeader Header { get; }

    /// <summary>The current chunk's header.</summary>
    public CaptureChunkHeader Chunk { get; private set; }

    /// <summary>File offset of the current chunk's first byte.</summary>
    public long ChunkOffset { get; private set; }

    /// <summary>File offset of the current chunk's payload.</summary>
    public long PayloadOffset => ChunkOffset + CaptureWire.ChunkHeaderSize;

    /// <summary>The current chunk's payload (valid until the next <see cref="ReadChunk"/>).</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(0, Chunk.PayloadLength);

    /// <summary>The current chunk's payload as memory (valid until the next <see cref="ReadChunk"/>).</summary>
    public ReadOnlyMemory<byte> PayloadMemory => _buffer.AsMemory(0, Chunk.PayloadLength);

    /// <summary>How reading ended; <see cref="CaptureEndState.None"/> while chunks remain.</summary>
    public CaptureEndState EndState { get; private set; }

    /// <summary>Bytes from the start of the file to the end of the last good chunk.</summary>
    public long ValidLength { get; private set; }

    /// <summary>Bytes after the last good chunk (known once reading has ended).</summary>
    public long LostBytes { get; private set; }

    /// <summary>What stopped the reading, when it was not a clean end.</summary>
    public string? Problem { get; private set; }

    /// <summary>Good chunks read.</summary>
    public long ChunkCount => _sequence;

    /// <summary>Bytes of <paramref name="direction"/> in the good chunks so far.</summary>
    public long PositionOf(CaptureDirection direction) => _positions[(int)direction];

    /// <summary>Moves to the next good chunk. False at the end of the file or at the first damaged chunk.</summary>
    public bool ReadChunk()
    {
        if (EndState != CaptureEndState.None)
        {
            return false;
        }
        ChunkOffset = _offset;
        var got = _input.ReadAtLeast(_head, _head.Length, throwOnEndOfStream: false);
        if (got == 0)
        {
            return Stop(_footerSeen ? CaptureEndState.Complete : CaptureEndState.Unfinished, null, 0);
        }
        if (_footerSeen)
        {
            return Stop(CaptureEndState.Corrupt, "bytes after the footer", got);
        }
        if (got < _head.Length)
        {
            return Stop(CaptureEndState.Truncated, Say($"chunk #{_sequence}: only {got} of the {CaptureWire.ChunkHeaderSize} header bytes were written"), got);
        }
        if (CaptureChunkHeader.Read(_head) is not { } h)
        {
            return Stop(CaptureEndState.Corrupt, Say($"chunk #{_sequence}: no chunk sync word"), got);
        }
        if (h.PayloadLength < 0 || h.PayloadLength > CaptureWire.MaxChunkPayload)
        {
            return Stop(CaptureEndState.Corrupt, Say($"chunk #{_sequence}: payload length {h.PayloadLength} is over the {CaptureWire.MaxChunkPayload}-byte limit"), got);
        }
        if (h.Sequence != _sequence)
        {
            return Stop(CaptureEndState.Corrupt, Say($"chunk #{_sequence}: sequence number is {h.Sequence}"), got);
        }
        var need = h.PayloadLength + CaptureWire.ChunkCrcSize;
        var have = ReadBody(need);
        if (have < need)
        {
            return Stop(CaptureEndState.Truncated,
                Say($"chunk #{_sequence} ({h.Type}): {h.PayloadLength} payload bytes declared, {have} of {need} payload+CRC bytes written"), got + have);
        }
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(h.PayloadLength));
        var actual = Crc32C.Append(Crc32C.Compute(_head), _buffer.AsSpan(0, h.PayloadLength));
        if (stored != actual)
        {
            return Stop(CaptureEndState.Corrupt, Say($"chunk #{_sequence} ({h.Type}): CRC32C is 0x{stored:x8}, the bytes give 0x{actual:x8}"), got + have);
        }
        if (!CheckPosition(h, out var why))
        {
            return Stop(CaptureEndState.Corrupt, why, got + have);
        }
        Chunk = h;
        _offset += got + have;
        ValidLength = _offset;
        _sequence++;
        if (h.Type == CaptureChunkType.Footer)
        {
            _footerSeen = true;
        }
        return true;
    }

    private bool CheckPosition(CaptureChunkHeader h, out string why)
    {
        why = "";
        if (h.Type is not (CaptureChunkType.Data or CaptureChunkType.Index))
        {
            return true;
        }
        if (h.DirectionByte > 1)
        {
            why = Say($"chunk #{h.Sequence} ({h.Type}): direction byte {h.DirectionByte} is not 0 or 1");
            return false;
        }
        var counters = h.Type == CaptureChunkType.Data ? _positions : _indexEntries;
        if (h.Type == CaptureChunkType.Index && h.PayloadLength % CaptureWire.IndexEntrySize != 0)
        {
            why = Say($"chunk #{h.Sequence} (Index): payload of {h.PayloadLength} bytes is not a whole number of entries");
            return false;
        }
        if (counters[h.DirectionByte] != h.Position)
        {
            why = Say($"chunk #{h.Sequence} ({h.Type}): position {h.Position}, expected {counters[h.DirectionByte]}");
            return false;
        }
        counters[h.DirectionByte] += h.Type == CaptureChunkType.Data ? h.PayloadLength : h.PayloadLength / CaptureWire.IndexEntrySize;
        return true;
    }

    /// <summary>Reads <paramref name="count"/> bytes into the buffer, growing it only as bytes arrive.</summary>
    private int ReadBody(int count)
    {
        if (_input.CanSeek && _input.Length - _input.Position < count)
        {
            // Truncated: count what is there without allocating for the declared length.
            return (int)Math.Max(0, _input.Length - _input.Position);
        }
        var filled = 0;
        while (filled < count)
        {
            if (filled == _buffer.Length)
            {
                Array.Resize(ref _buffer, (int)Math.Min(count, (long)_buffer.Length * 2));
            }
            var n = _input.Read(_buffer, filled, Math.Min(_buffer.Length, count) - filled);
            if (n <= 0)
            {
                break;
            }
            filled += n;
        }
        return filled;
    }

    private bool Stop(CaptureEndState state, string? problem, long consumed)
    {
        EndState = state;
        Problem = problem;
        if (_input.CanSeek)
        {
            LostBytes = Math.Max(0, _input.Length - ValidLength);
        }
        else
        {
            var rest = consumed;
            var scratch = new byte[64 << 10];
            int n;
            while ((n = _input.Read(scratch)) > 0)
            {
                rest += n;
            }
            LostBytes = rest;
        }
        return false;
    }

    private string Say(FormattableString text) => string.Create(CultureInfo.InvariantCulture, $"at offset {_offset}: ") + text.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _input.Dispose();
        }
    }
}
