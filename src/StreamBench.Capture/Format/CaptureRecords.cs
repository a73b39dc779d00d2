using System.Buffers.Binary;
using System.Text;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Format;

/// <summary>The 32-byte chunk header (docs/CAPTURE.md).</summary>
public readonly record struct CaptureChunkHeader(
    CaptureChunkType Type, byte DirectionByte, ushort Flags, int PayloadLength, uint Sequence, long Timestamp, long Position)
{
    /// <summary>The direction, for chunks that have one.</summary>
    public CaptureDirection? Direction => DirectionByte == CaptureWire.NoDirection ? null : (CaptureDirection)DirectionByte;

    /// <summary>Writes the header into <paramref name="destination"/> (32 bytes).</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, CaptureWire.ChunkSync);
        destination[CaptureWire.ChunkTypeOffset] = (byte)Type;
        destination[CaptureWire.ChunkDirectionOffset] = DirectionByte;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[CaptureWire.ChunkFlagsOffset..], Flags);
        BinaryPrimitives.WriteInt32LittleEndian(destination[CaptureWire.ChunkLengthOffset..], PayloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CaptureWire.ChunkSequenceOffset..], Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[CaptureWire.ChunkTimestampOffset..], Timestamp);
        BinaryPrimitives.WriteInt64LittleEndian(destination[CaptureWire.ChunkPositionOffset..], Position);
    }

    /// <summary>Reads a header; null when the sync word is wrong.</summary>
    public static CaptureChunkHeader? Read(ReadOnlySpan<byte> source)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != CaptureWire.ChunkSync)
        {
            return null;
        }
        return new CaptureChunkHeader(
            (CaptureChunkType)source[CaptureWire.ChunkTypeOffset],
            source[CaptureWire.ChunkDirectionOffset],
            BinaryPrimitives.ReadUInt16LittleEndian(source[CaptureWire.ChunkFlagsOffset..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[CaptureWire.ChunkLengthOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[CaptureWire.ChunkSequenceOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[CaptureWire.ChunkTimestampOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[CaptureWire.ChunkPositionOffset..]));
    }
}

/// <summary>The file header fields.</summary>
public readonly record struct CaptureFileHeader(ushort VersionMajor, ushort VersionMinor, long StartUnixNanoseconds, uint Flags)
{
    /// <summary>The wall clock when recording started.</summary>
    public DateTimeOffset StartTime => DateTimeOffset.UnixEpoch.AddTicks(StartUnixNanoseconds / 100);

    /// <summary>The 32 header bytes, CRC included.</summary>
    public byte[] ToBytes()
    {
        var h = new byte[CaptureWire.FileHeaderSize];
        CaptureWire.Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(CaptureWire.HeaderVersionMajorOffset), VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(CaptureWire.HeaderVersionMinorOffset), VersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(CaptureWire.HeaderSizeOffset), CaptureWire.FileHeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(CaptureWire.HeaderStartOffset), StartUnixNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(CaptureWire.HeaderFlagsOffset), Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(CaptureWire.HeaderCrcOffset), Crc32C.Compute(h.AsSpan(0, CaptureWire.HeaderCrcOffset)));
        return h;
    }

    /// <summary>Parses and checks the header; throws <see cref="CaptureFormatException"/> naming what is wrong.</summary>
    public static CaptureFileHeader Parse(ReadOnlySpan<byte> h)
    {
        if (h.Length < CaptureWire.FileHeaderSize)
        {
            throw new CaptureFormatException($"file shorter than the {CaptureWire.FileHeaderSize}-byte capture header ({h.Length} bytes)", 0);
        }
        if (!h[..CaptureWire.MagicSize].SequenceEqual(CaptureWire.Magic))
        {
            throw new CaptureFormatException("not a capture file (bad magic)", 0);
        }
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(h[CaptureWire.HeaderCrcOffset..]);
        var actual = Crc32C.Compute(h[..CaptureWire.HeaderCrcOffset]);
        if (crc != actual)
        {
            throw new CaptureFormatException($"capture header CRC32C is 0x{crc:x8}, the bytes give 0x{actual:x8}", CaptureWire.HeaderCrcOffset);
        }
        var major = BinaryPrimitives.ReadUInt16LittleEndian(h[CaptureWire.HeaderVersionMajorOffset..]);
        if (major != CaptureWire.VersionMajor)
        {
            throw new CaptureFormatException($"capture format version {major} is not supported (this reader knows {CaptureWire.VersionMajor})", CaptureWire.HeaderVersionMajorOffset);
        }
        var size = BinaryPrimitives.ReadUInt32LittleEndian(h[CaptureWire.HeaderSizeOffset..]);
        if (size != CaptureWire.FileHeaderSize)
        {
            throw new CaptureFormatException($"capture header size is {size}, expected {CaptureWire.FileHeaderSize}", CaptureWire.HeaderSizeOffset);
        }
        return new CaptureFileHeader(major, BinaryPrimitives.ReadUInt16LittleEndian(h[CaptureWire.HeaderVersionMinorOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(h[CaptureWire.HeaderStartOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(h[CaptureWire.HeaderFlagsOffset..]));
    }
}

/// <summary>One item boundary in a direction's byte stream: where it starts, how long it is, what it is.</summary>
public readonly record struct CaptureIndexEntry(long Offset, long Length, uint RecordType, StreamItemKind Kind, StreamLayer Layer)
{
    /// <summary>Whether the entry is a framed record (what <c>--records</c> and <c>--cut-at-record</c> count).</summary>
    public bool IsRecord => Kind == StreamItemKind.Record;

    /// <summary>The offset just past the item.</summary>
    public long End => Offset + Length;

    /// <summary>Writes the 24-byte entry.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, Offset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], RecordType);
        destination[20] = (byte)Kind;
        destination[21] = (byte)Layer;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[22..], 0);
    }

    /// <summary>Reads a 24-byte entry.</summary>
    public static CaptureIndexEntry Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadInt64LittleEndian(source), BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[16..]), (StreamItemKind)source[20], (StreamLayer)source[21]);
}

/// <summary>An event chunk's contents.</summary>
public readonly record struct CaptureEvent(CaptureEventCode Code, CaptureDirection? Direction, long Value, string Text, long Timestamp)
{
    /// <summary>The payload bytes: u32 code, i64 value, UTF-8 text.</summary>
    public byte[] ToPayload()
    {
        var text = Encoding.UTF8.GetBytes(Text);
        var p = new byte[CaptureWire.EventFixedSize + text.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(p, (uint)Code);
        BinaryPrimitives.WriteInt64LittleEndian(p.AsSpan(4), Value);
        text.CopyTo(p.AsSpan(CaptureWire.EventFixedSize));
        return p;
    }

    /// <summary>Parses a payload; null when it is too short.</summary>
    public static CaptureEvent? Parse(ReadOnlySpan<byte> payload, CaptureDirection? direction, long timestamp)
    {
        if (payload.Length < CaptureWire.EventFixedSize)
        {
            return null;
        }
        return new CaptureEvent((CaptureEventCode)BinaryPrimitives.ReadUInt32LittleEndian(payload), direction,
            BinaryPrimitives.ReadInt64LittleEndian(payload[4..]), Encoding.UTF8.GetString(payload[CaptureWire.EventFixedSize..]), timestamp);
    }
}

/// <summary>The footer of a capture that was closed cleanly.</summary>
public readonly record struct CaptureFooter(long SenderBytes, long ReceiverBytes, long ChunkCount, long SenderIndexEntries, long ReceiverIndexEntries, uint Flags)
{
    /// <summary>Flag: the s2r direction reached end of input.</summary>
    public const uint SenderEnded = 1;

    /// <summary>Flag: the r2s direction reached end of input.</summary>
    public const uint ReceiverEnded = 2;

    /// <summary>The byte count of a direction.</summary>
    public long BytesOf(CaptureDirection direction) => direction == CaptureDirection.SenderToReceiver ? SenderBytes : ReceiverBytes;

    /// <summary>The payload bytes.</summary>
    public byte[] ToPayload()
    {
        var p = new byte[CaptureWire.FooterSize];
        BinaryPrimitives.WriteInt64LittleEndian(p, SenderBytes);
        BinaryPrimitives.WriteInt64LittleEndian(p.AsSpan(8), ReceiverBytes);
        BinaryPrimitives.WriteInt64LittleEndian(p.AsSpan(16), ChunkCount);
        BinaryPrimitives.WriteInt64LittleEndian(p.AsSpan(24), SenderIndexEntries);
        BinaryPrimitives.WriteInt64LittleEndian(p.AsSpan(32), ReceiverIndexEntries);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(40), Flags);
        return p;
    }

    /// <summary>Parses a payload; null when its size is wrong.</summary>
    public static CaptureFooter? Parse(ReadOnlySpan<byte> p) => p.Length != CaptureWire.FooterSize ? null : new CaptureFooter(
        BinaryPrimitives.ReadInt64LittleEndian(p), BinaryPrimitives.ReadInt64LittleEndian(p[8..]),
        BinaryPrimitives.ReadInt64LittleEndian(p[16..]), BinaryPrimitives.ReadInt64LittleEndian(p[24..]),
        BinaryPrimitives.ReadInt64LittleEndian(p[32..]), BinaryPrimitives.ReadUInt32LittleEndian(p[40..]));
}

/// <summary>A capture file that cannot be read at all (bad header). Damage after the header is reported, not thrown.</summary>
public sealed class CaptureFormatException : FormatException
{
    /// <summary>Creates the error.</summary>
    public CaptureFormatException(string problem, long offset)
        : base(FormattableString.Invariant($"capture offset {offset} (0x{offset:x}): {problem}"))
    {
        Offset = offset;
    }

    /// <summary>Required by CA1032.</summary>
    public CaptureFormatException() : this("malformed capture", 0) { }

    /// <summary>Required by CA1032.</summary>
    public CaptureFormatException(string message) : this(message, 0) { }

    /// <summary>Required by CA1032.</summary>
    public CaptureFormatException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Byte offset of the damage in the capture file.</summary>
    public long Offset { get; }
}
