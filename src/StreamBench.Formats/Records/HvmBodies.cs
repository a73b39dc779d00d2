using System.Buffers.Binary;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Formats.Records;

/// <summary>One HVM_PARAMS entry: <c>u64 index; u64 value</c>.</summary>
/// <param name="Index">The HVM_PARAM_* index.</param>
/// <param name="Value">Its value.</param>
public readonly record struct HvmParamEntry(ulong Index, ulong Value)
{
    /// <summary>The index as the known enum (the value may be outside it).</summary>
    public HvmParam Param => (HvmParam)Index;
}

/// <summary>HVM_PARAMS (FORMATS.md 4.1): <c>u32 count; u32 reserved; {u64 index, u64 value}[count]</c>, exactly 8 + 16·count.</summary>
public readonly ref struct HvmParamsBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    private HvmParamsBody(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Decodes the header; false when fewer than 8 bytes are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out HvmParamsBody @params)
    {
        @params = new HvmParamsBody(body);
        return body.Length >= LibxcBodySizes.HvmParamsHeader;
    }

    /// <summary>Entries the record claims.</summary>
    public uint Count => BinaryPrimitives.ReadUInt32LittleEndian(_bytes);

    /// <summary>Reserved (zero on save).</summary>
    public uint Reserved => BinaryPrimitives.ReadUInt32LittleEndian(_bytes[4..]);

    /// <summary>Entries present in the span (at most <see cref="Count"/>).</summary>
    public int AvailableEntries => (int)Math.Min(Count, (uint)((_bytes.Length - LibxcBodySizes.HvmParamsHeader) / LibxcBodySizes.HvmParamsEntry));

    /// <summary>The exact body length for <paramref name="count"/> entries.</summary>
    public static long ExpectedLength(uint count) => LibxcBodySizes.HvmParamsHeader + ((long)count * LibxcBodySizes.HvmParamsEntry);

    /// <summary>Entry <paramref name="index"/>.</summary>
    public HvmParamEntry this[int index]
    {
        get
        {
            var e = _bytes.Slice(LibxcBodySizes.HvmParamsHeader + (index * LibxcBodySizes.HvmParamsEntry), LibxcBodySizes.HvmParamsEntry);
            return new HvmParamEntry(BinaryPrimitives.ReadUInt64LittleEndian(e), BinaryPrimitives.ReadUInt64LittleEndian(e[8..]));
        }
    }
}

/// <summary>An HVM save descriptor and where its data sits in the blob.</summary>
/// <param name="Typecode">The save type (<see cref="HvmSaveType"/>).</param>
/// <param name="Instance">Instance (e.g. the vCPU).</param>
/// <param name="Length">Length of the data after the descriptor.</param>
/// <param name="Offset">Offset of the descriptor from the start of the blob.</param>
public readonly record struct HvmSaveDescriptor(ushort Typecode, ushort Instance, uint Length, long Offset)
{
    /// <summary>The typecode as the known enum.</summary>
    public HvmSaveType Code => (HvmSaveType)Typecode;

    /// <summary>Offset of the data from the start of the blob.</summary>
    public long DataOffset => Offset + HvmSaveWire.DescriptorSize;

    /// <summary>Decodes 8 bytes at <paramref name="offset"/>.</summary>
    public static HvmSaveDescriptor Read(ReadOnlySpan<byte> descriptor, long offset) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(descriptor), BinaryPrimitives.ReadUInt16LittleEndian(descriptor[2..]),
        BinaryPrimitives.ReadUInt32LittleEndian(descriptor[4..]), offset);
}

/// <summary>The HVM save HEADER record's data: <c>u32 magic; u32 version; u64 changeset; u32 cpuid; u32 gtsc_khz</c>.</summary>
/// <param name="Magic">HVM_FILE_MAGIC (0x54381286).</param>
/// <param name="Version">HVM_FILE_VERSION (1).</param>
/// <param name="Changeset">The saving Xen's changeset.</param>
/// <param name="Cpuid">CPUID[1].EAX of the saving host.</param>
/// <param name="GtscKhz">The guest's TSC frequency in kHz.</param>
public readonly record struct HvmSaveHeader(uint Magic, uint Version, ulong Changeset, uint Cpuid, uint GtscKhz)
{
    /// <summary>Decodes the first 24 bytes; false when fewer are given.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out HvmSaveHeader header)
    {
        if (data.Length < HvmSaveWire.HeaderBodySize)
        {
            header = default;
            return false;
        }
        header = new HvmSaveHeader(BinaryPrimitives.ReadUInt32LittleEndian(data[HvmSaveHeaderLayout.Magic..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[HvmSaveHeaderLayout.Version..]), BinaryPrimitives.ReadUInt64LittleEndian(data[HvmSaveHeaderLayout.Changeset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[HvmSaveHeaderLayout.Cpuid..]), BinaryPrimitives.ReadUInt32LittleEndian(data[HvmSaveHeaderLayout.GtscKhz..]));
        return true;
    }
}

/// <summary>Where a walk over an HVM save blob stopped.</summary>
public enum HvmSaveWalkStatus
{
    /// <summary>Still walking.</summary>
    Walking,
    /// <summary>The END descriptor was read.</summary>
    End,
    /// <summary>The blob ended on a descriptor boundary without END.</summary>
    MissingEnd,
    /// <summary>Fewer than 8 bytes were left for a descriptor.</summary>
    DescriptorTruncated,
    /// <summary>A descriptor's length runs past the end of the blob.</summary>
    DataOutOfBounds,
}

/// <summary>
/// Walks the HVM_CONTEXT blob (FORMATS.md 4.1): packed <c>{u16 typecode, u16 instance, u32 length}</c> descriptors,
/// each followed by <c>length</c> bytes, from HEADER to END. Xen's hvm_load() is the real validator; this walk
/// only checks the framing.
/// </summary>
public ref struct HvmContextWalker
{
    private readonly ReadOnlySpan<byte> _blob;
    private long _at;

    /// <summary>Walks <paramref name="blob"/>.</summary>
    public HvmContextWalker(ReadOnlySpan<byte> blob)
    {
        _blob = blob;
        _at = 0;
        Status = HvmSaveWalkStatus.Walking;
    }

    /// <summary>Why the walk stopped.</summary>
    public HvmSaveWalkStatus Status { get; private set; }

    /// <summary>Offset of the next descriptor (after END: the first byte after it).</summary>
    public readonly long Position => _at;

    /// <summary>Bytes after the END record (non-zero means trailing garbage).</summary>
    public readonly long TrailingBytes => Status == HvmSaveWalkStatus.End ? _blob.Length - _at : 0;

    /// <summary>Moves to the next descriptor. False when the walk stops (see <see cref="Status"/>).</summary>
    public bool TryNext(out HvmSaveDescriptor descriptor, out ReadOnlySpan<byte> data)
    {
        descriptor = default;
        data = default;
        if (Status != HvmSaveWalkStatus.Walking)
        {
            return false;
        }
        var left = _blob.Length - _at;
        if (left == 0)
        {
            Status = HvmSaveWalkStatus.MissingEnd;
            return false;
        }
        if (left < HvmSaveWire.DescriptorSize)
        {
            Status = HvmSaveWalkStatus.DescriptorTruncated;
            return false;
        }
        descriptor = HvmSaveDescriptor.Read(_blob.Slice((int)_at, HvmSaveWire.DescriptorSize), _at);
        if (descriptor.Length > left - HvmSaveWire.DescriptorSize)
        {
            Status = HvmSaveWalkStatus.DataOutOfBounds;
            return true;
        }
        data = _blob.Slice((int)descriptor.DataOffset, (int)descriptor.Length);
        _at = descriptor.DataOffset + descriptor.Length;
        if (descriptor.Code == HvmSaveType.End)
        {
            Status = HvmSaveWalkStatus.End;
        }
        return true;
    }
}
