using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>
/// A pull reader over a legacy (pre-4.6) libxc image (FORMATS.md 6), for 32- and 64-bit toolstacks, PV and HVM.
/// Each <see cref="Read"/> moves to the next item: the header, the PV extended info and its blocks, the p2m frame
/// list, each page batch, each XC_SAVE_ID_* chunk (TMEM and TMEM_EXTRA part by part), the end of the body, the tail
/// (PV: unmapped pfns, per-vCPU contexts, shared_info; HVM: magic pfns, HVM context), and the QEMU record. Remus
/// images repeat the body and the tail (and the QEMU record) until the input stops; <see cref="CheckpointIndex"/>
/// counts the rounds, and a round cut short by the end of the input ends the read as a failover.
/// <para>
/// Bodies (page data, contexts, blobs) are not read unless asked for (<see cref="ReadBody"/>,
/// <see cref="ReadBodySpan"/>, <see cref="GetBody"/>); the rest is skipped. Nothing is allocated from a length found
/// in the input: the pfn array of a batch is at most 1024 words, VCPU_INFO at most 64 words, and everything larger is
/// streamed. Malformed input raises <see cref="StreamFormatException"/> with layer "legacy".
/// </para>
/// </summary>
public sealed partial class LegacyStreamReader : IDisposable
{
    private enum State
    {
        Start,
        ExtendedInfo,
        ExtendedBlocks,
        P2mFrames,
        Body,
        TmemPools,
        TmemPages,
        TmemExtra,
        PvUnmapped,
        PvVcpus,
        PvSharedInfo,
        HvmMagic,
        HvmContext,
        Qemu,
        AfterImage,
        Done,
    }

    private enum VcpuStep
    {
        Basic,
        Extended,
        Xsave,
    }

    private readonly ByteSource _src;
    private readonly bool _ownsSource;
    private readonly LegacyStreamReaderOptions _options;
    private readonly ulong[] _pfnWords = new ulong[LegacyWire.MaxBatch];
    private readonly byte[] _scratch = new byte[LegacyWire.MaxBatch * sizeof(ulong)];
    private readonly ulong[] _vcpuBitmap = new ulong[LegacyLayout.MaxVcpuBitmapWords];
    private readonly byte[] _blockId = new byte[4];
    private readonly byte[] _qemuSignature = new byte[LegacyWire.QemuSignatureSize];
    private int[] _online = new int[64];
    private int _onlineCount;
    private bool _vcpuInfoSeenThisBody;
    private State _state = State.Start;
    private long _itemCounter = -1;
    private bool _itemFinished = true;
    private long _bodyConsumed;
    private byte[]? _bodyBuffer;
    private int _bodyBufferLength = -1;
    private uint _extendedLeft;
    private int _pfnCount;
    private int _vcpuCursor;
    private VcpuStep _vcpuStep;
    private long _tmemPagesLeft;
    private long _checkpointStart;
    private bool _compressionRequested;

    /// <summary>Reads from <paramref name="source"/>.</summary>
    public LegacyStreamReader(ByteSource source, LegacyStreamReaderOptions? options = null, bool ownsSource = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        _src = source;
        _ownsSource = ownsSource;
        _options = options ?? new LegacyStreamReaderOptions();
        if (_options.Semantics == LegacySemantics.LibxcRestore)
        {
            _online[0] = 0;
            _onlineCount = 1;
        }
    }

    /// <summary>Opens a path ("-" for standard input).</summary>
    public static LegacyStreamReader Open(string path, LegacyStreamReaderOptions? options = null)
        => new(ByteSource.Open(path), options, ownsSource: true);

    /// <summary>Reads bytes in memory.</summary>
    public static LegacyStreamReader FromMemory(ReadOnlyMemory<byte> bytes, LegacyStreamReaderOptions? options = null)
        => new(ByteSource.FromMemory(bytes), options, ownsSource: true);

    /// <summary>The underlying source.</summary>
    public ByteSource Source => _src;

    /// <summary>The options in use.</summary>
    public LegacyStreamReaderOptions Options => _options;

    // ---- what the image is -------------------------------------------------------------------------------------

    /// <summary>The toolstack width (known after the first <see cref="Read"/>).</summary>
    public LegacyWidth Width { get; private set; }

    /// <summary>The guest type (known after the first <see cref="Read"/>).</summary>
    public LegacyGuestType GuestType { get; private set; }

    /// <summary>How the width and guest type were decided.</summary>
    public string DetectionReason { get; private set; } = "";

    /// <summary>Size of a C unsigned long in the image: 4 or 8.</summary>
    public int UlongSize => Width == LegacyWidth.Bits32 ? 4 : 8;

    /// <summary>The header's p2m_size.</summary>
    public ulong P2mSize { get; private set; }

    /// <summary>PV: the extended info's total_len.</summary>
    public uint ExtendedInfoLength { get; private set; }

    /// <summary>PV: the guest width from the "vcpu" block (4 or 8; 0 before it).</summary>
    public int GuestWidth { get; private set; }

    /// <summary>PV: page-table levels from the "vcpu" block (3 or 4; 0 before it).</summary>
    public int PtLevels { get; private set; }

    /// <summary>PV: the size of a basic vCPU context (the "vcpu" block's size).</summary>
    public int BasicContextSize { get; private set; }

    /// <summary>PV: whether "extv" was present (128-byte extended contexts in the tail).</summary>
    public bool HasExtendedVcpuContext { get; private set; }

    /// <summary>PV: the "xcnt" xsave record length (0: no xsave records).</summary>
    public uint XsaveLength { get; private set; }

    /// <summary>PV: entries in the p2m frame list.</summary>
    public long FrameCount { get; private set; }

    /// <summary>The vCPUs whose contexts the PV tail carries, in order (duplicates kept under <see cref="LegacySemantics.XenConverter"/>).</summary>
    public ReadOnlySpan<int> OnlineVcpus => _online.AsSpan(0, _onlineCount);

    /// <summary>Whether XC_SAVE_ID_ENABLE_COMPRESSION came in the first body: later bodies are then "format B".</summary>
    public bool CompressionEnabled => _compressionRequested;

    /// <summary>Whether XC_SAVE_ID_LAST_CHECKPOINT has been read.</summary>
    public bool LastCheckpointSeen { get; private set; }

    // ---- where the reader is -----------------------------------------------------------------------------------

    /// <summary>The current item's kind.</summary>
    public LegacyItemKind Kind { get; private set; }

    /// <summary>Absolute offset of the current item's first byte (a chunk's id).</summary>
    public long Offset { get; private set; }

    /// <summary>Index of the current item in the stream (0-based).</summary>
    public long ItemIndex { get; private set; } = -1;

    /// <summary>0 for the first image; 1, 2, ... for each Remus checkpoint that follows.</summary>
    public int CheckpointIndex { get; private set; }

    /// <summary>Whether the current body is "format B": batches carry pfns only, and pages come in COMPRESSED_DATA.</summary>
    public bool InCompressedBody { get; private set; }

    /// <summary>Complete images (first image plus complete checkpoints) read so far.</summary>
    public int CompleteImages { get; private set; }

    /// <summary>How reading ended; <see cref="StreamEnding.None"/> while reading.</summary>
    public StreamEnding Ending { get; private set; }

    /// <summary>Bytes of an incomplete Remus checkpoint dropped at the end (a failover).</summary>
    public long DiscardedBytes { get; private set; }

    /// <summary>Absolute offset of the current body's first byte.</summary>
    public long BodyOffset { get; private set; }

    /// <summary>The current item's body length; -1 when it runs to the end of the input of unknown length.</summary>
    public long BodyLength { get; private set; }

    // ---- item fields -------------------------------------------------------------------------------------------

    /// <summary>The raw chunk id of the current body item (page batch count, 0, or XC_SAVE_ID_*).</summary>
    public int RawChunkId { get; private set; }

    /// <summary>The XC_SAVE_ID_* of the current chunk.</summary>
    public LegacyChunkId ChunkId => (LegacyChunkId)RawChunkId;

    /// <summary>HVM-param chunks: the u32 padding word.</summary>
    public uint ChunkPad { get; private set; }

    /// <summary>HVM-param chunks: the value.</summary>
    public ulong ChunkValue { get; private set; }

    /// <summary>VCPU_INFO: max_vcpu_id as written.</summary>
    public int MaxVcpuId { get; private set; }

    /// <summary>VCPU_INFO: the bitmap words read.</summary>
    public ReadOnlySpan<ulong> VcpuBitmap => _vcpuBitmap.AsSpan(0, VcpuBitmapWords);

    private int VcpuBitmapWords { get; set; }

    /// <summary>TSC_INFO.</summary>
    public LegacyTscInfo Tsc { get; private set; }

    /// <summary>TMEM / TMEM_EXTRA parts.</summary>
    public LegacyTmemFields Tmem { get; private set; }

    /// <summary>Page batch: the pfn words as written (ulongs widened to 64 bits).</summary>
    public ReadOnlySpan<ulong> PfnWords => _pfnWords.AsSpan(0, _pfnCount);

    /// <summary>Page batch: pages of data in the batch (those whose type is below BROKEN), present or (format B) not.</summary>
    public int DataPageCount { get; private set; }

    /// <summary>Extended-info block: the 4-byte id.</summary>
    public ReadOnlySpan<byte> BlockId => _blockId;

    /// <summary>Extended-info block: the id as text (non-printable bytes escaped).</summary>
    public string BlockName => Printable(_blockId);

    /// <summary>PV tail: the vCPU the context belongs to.</summary>
    public int VcpuId { get; private set; }

    /// <summary>PV tail xsave: the xfeature mask.</summary>
    public ulong XsaveMask { get; private set; }

    /// <summary>PV tail: nr_unmapped.</summary>
    public uint UnmappedCount { get; private set; }

    /// <summary>HVM tail: the magic pfns.</summary>
    public LegacyHvmMagicPfns MagicPfns { get; private set; }

    /// <summary>QEMU record: which signature.</summary>
    public LegacyQemuSignature QemuSignature { get; private set; }

    /// <summary>QEMU record: the 21 signature bytes.</summary>
    public ReadOnlySpan<byte> QemuSignatureBytes => _qemuSignature;

    /// <summary>The current item's name, as errors print it.</summary>
    public string ItemName => NameOf(Kind, RawChunkId);

    private static string NameOf(LegacyItemKind kind, int chunkId) => kind switch
    {
        LegacyItemKind.Header => "IMAGE_HEADER",
        LegacyItemKind.ExtendedInfo => "EXTENDED_INFO",
        LegacyItemKind.ExtendedInfoBlock => "EXTENDED_INFO_BLOCK",
        LegacyItemKind.P2mFrameList => "P2M_FRAME_LIST",
        LegacyItemKind.PageBatch => "PAGE_BATCH",
        LegacyItemKind.Chunk or LegacyItemKind.CompressedData or LegacyItemKind.Toolstack
            or LegacyItemKind.Tmem or LegacyItemKind.TmemExtra => LegacyLayout.ChunkName(chunkId),
        LegacyItemKind.EndOfBody => "END_OF_BODY",
        LegacyItemKind.PvUnmappedPfns => "PV_TAIL_UNMAPPED_PFNS",
        LegacyItemKind.PvVcpuBasic => "PV_TAIL_VCPU_BASIC",
        LegacyItemKind.PvVcpuExtended => "PV_TAIL_VCPU_EXTENDED",
        LegacyItemKind.PvVcpuXsave => "PV_TAIL_VCPU_XSAVE",
        LegacyItemKind.SharedInfo => "PV_TAIL_SHARED_INFO",
        LegacyItemKind.HvmMagicPfns => "HVM_TAIL_MAGIC_PFNS",
        LegacyItemKind.HvmContext => "HVM_TAIL_CONTEXT",
        LegacyItemKind.QemuRecord => "QEMU_RECORD",
        _ => "NONE",
    };

    /// <summary>Whether input is left after the reading stopped (trailing bytes the image does not account for).</summary>
    public bool HasTrailingData => _state == State.Done && Ending != StreamEnding.Failover && !_src.AtEnd;

    // ---- the item loop -----------------------------------------------------------------------------------------

    /// <summary>Moves to the next item. False at the end (see <see cref="Ending"/>).</summary>
    public bool Read()
    {
        if (_state == State.Done)
        {
            Kind = LegacyItemKind.None;
            return false;
        }
        try
        {
            FinishItem();
            return Step();
        }
        catch (StreamFormatException e) when (e.IsTruncation && CheckpointIndex > 0)
        {
            // A Remus stream stops wherever the primary failed; the last complete checkpoint stands.
            DiscardedBytes = _src.Position - _checkpointStart;
            return Finish(StreamEnding.Failover);
        }
    }

    private bool Step()
    {
        while (true)
        {
            switch (_state)
            {
                case State.Start:
                    return ReadHeader();
                case State.ExtendedInfo:
                    return ReadExtendedInfo();
                case State.ExtendedBlocks:
                    if (_extendedLeft == 0)
                    {
                        _state = State.P2mFrames;
                        continue;
                    }
                    return ReadExtendedBlock();
                case State.P2mFrames:
                    return ReadP2mFrames();
                case State.Body:
                    return ReadChunk();
                case State.TmemPools:
                    return ReadTmemPool();
                case State.TmemPages:
                    return ReadTmemPage();
                case State.TmemExtra:
                    return ReadTmemInvalidation();
                case State.PvUnmapped:
                    return ReadPvUnmapped();
                case State.PvVcpus:
                    if (ReadPvVcpu())
                    {
                        return true;
                    }
                    _state = State.PvSharedInfo;
                    continue;
                case State.PvSharedInfo:
                    return ReadSharedInfo();
                case State.HvmMagic:
                    return ReadHvmMagic();
                case State.HvmContext:
                    return ReadHvmContext();
                case State.Qemu:
                    if (ReadQemu())
                    {
                        return true;
                    }
                    continue;
                case State.AfterImage:
                    if (NextCheckpoint())
                    {
                        continue;
                    }
                    return false;
                default:
                    Kind = LegacyItemKind.None;
                    return false;
            }
        }
    }

    private bool Finish(StreamEnding ending)
    {
        if (Ending == StreamEnding.None)
        {
            Ending = ending;
        }
        _state = State.Done;
        Kind = LegacyItemKind.None;
        _itemFinished = true;
        return false;
    }

    /// <summary>The image (body, tail, QEMU record) is complete: decide whether a Remus checkpoint follows.</summary>
    private void ImageComplete()
    {
        CompleteImages++;
        _state = State.AfterImage;
    }

    private bool NextCheckpoint()
    {
        if (_options.StopAfterFirstImage || LastCheckpointSeen || _src.AtEnd
            || (GuestType == LegacyGuestType.Hvm && _options.QemuRecord == LegacyQemuRecordHandling.Skip))
        {
            return Finish(StreamEnding.Complete);
        }
        CheckpointIndex++;
        _checkpointStart = _src.Position;
        // xc_domain_restore switches to compressed bodies after the first tail, and only if the first body asked.
        InCompressedBody = _compressionRequested;
        _vcpuInfoSeenThisBody = false;
        _state = State.Body;
        return true;
    }

    // ---- item plumbing -----------------------------------------------------------------------------------------

    private void BeginItem(LegacyItemKind kind, long offset, long bodyLength)
    {
        Kind = kind;
        Offset = offset;
        ItemIndex = _itemCounter;
        BodyOffset = _src.Position;
        BodyLength = bodyLength;
        _bodyConsumed = 0;
        _bodyBufferLength = -1;
        _itemFinished = false;
    }

    /// <summary>Starts parsing the next item: numbers it, so that errors inside it carry its index.</summary>
    private long StartItem()
    {
        _itemCounter++;
        ItemIndex = _itemCounter;
        return _src.Position;
    }

    private ReadOnlySpan<byte> Need(int count, string itemName, string field)
    {
        if (!_src.Ensure(count))
        {
            throw new StreamFormatException(
                string.Create(CultureInfo.InvariantCulture, $"stream truncated: {field} needs {count} bytes, {_src.Available} left"),
                _src.Position, ErrorLayer.Legacy, _itemCounter, itemName, field, truncated: true);
        }
        return _src.Peek(count);
    }

    private StreamFormatException Error(string problem, long offset, string itemName, string field)
        => new(problem, offset, ErrorLayer.Legacy, _itemCounter, itemName, field);

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes through the source's window.</summary>
    private void ReadExact(Span<byte> destination, string itemName, string field)
    {
        var at = _src.Position;
        var done = 0;
        while (done < destination.Length)
        {
            var n = _src.Read(destination[done..]);
            if (n == 0)
            {
                throw new StreamFormatException(
                    string.Create(CultureInfo.InvariantCulture, $"stream truncated: {field} needs {destination.Length} bytes, {done} left"),
                    at, ErrorLayer.Legacy, _itemCounter, itemName, field, truncated: true);
            }
            done += n;
        }
    }

    private ulong ReadUlong(ReadOnlySpan<byte> at) => Width == LegacyWidth.Bits32
        ? BinaryPrimitives.ReadUInt32LittleEndian(at)
        : BinaryPrimitives.ReadUInt64LittleEndian(at);

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '.';
        }
        return new string(chars);
    }

    // ---- bodies ------------------------------------------------------------------------------------------------

    /// <summary>Bytes of the current body not yet read or skipped (long.MaxValue when it runs to an end of unknown position).</summary>
    public long BodyRemaining => _bodyBufferLength >= 0 ? 0 : BodyLength < 0 ? long.MaxValue : BodyLength - _bodyConsumed;

    private StreamFormatException BodyTruncated(long have) => new(
        string.Create(CultureInfo.InvariantCulture, $"stream truncated: the body needs {BodyLength} bytes, {have} present"),
        BodyOffset + have, ErrorLayer.Legacy, ItemIndex, ItemName, "body", truncated: true);

    /// <summary>Copies the next body bytes into <paramref name="destination"/>; returns the count (0 at the body's end).</summary>
    public int ReadBody(Span<byte> destination)
    {
        var left = BodyRemaining;
        if (left <= 0 || destination.IsEmpty)
        {
            return 0;
        }
        var want = (int)Math.Min(destination.Length, left);
        var done = 0;
        while (done < want)
        {
            var n = _src.Read(destination[done..want]);
            if (n == 0)
            {
                break;
            }
            done += n;
        }
        _bodyConsumed += done;
        if (done < want && BodyLength >= 0)
        {
            throw BodyTruncated(_bodyConsumed);
        }
        return done;
    }

    /// <summary>
    /// The next up to <paramref name="max"/> body bytes in place, without a copy (valid until the next call on this
    /// reader). Empty at the body's end.
    /// </summary>
    public ReadOnlySpan<byte> ReadBodySpan(int max)
    {
        var left = BodyRemaining;
        if (left <= 0 || max <= 0)
        {
            return default;
        }
        var want = (int)Math.Min(Math.Min(max, left), _src.MaxWindow);
        if (!_src.Ensure(want))
        {
            var have = _src.Available;
            if (BodyLength >= 0 || have == 0)
            {
                if (BodyLength >= 0)
                {
                    throw BodyTruncated(_bodyConsumed + have);
                }
                return default;
            }
            want = have;
        }
        var span = _src.Peek(want);
        _src.Advance(want);
        _bodyConsumed += want;
        return span;
    }

    /// <summary>Skips <paramref name="count"/> body bytes.</summary>
    public void SkipBody(long count)
    {
        var want = Math.Min(count, BodyRemaining);
        if (want <= 0)
        {
            return;
        }
        var n = _src.Skip(want);
        _bodyConsumed += n;
        if (n < want && BodyLength >= 0)
        {
            throw BodyTruncated(_bodyConsumed);
        }
    }

    /// <summary>
    /// The whole current body in one span. The buffer grows only as bytes arrive, so a lying length cannot make it
    /// allocate up front; bodies above <see cref="LegacyStreamReaderOptions.MaxBufferedBody"/> are refused.
    /// </summary>
    public ReadOnlySpan<byte> GetBody()
    {
        if (_bodyBufferLength >= 0)
        {
            return _bodyBuffer.AsSpan(0, _bodyBufferLength);
        }
        if (_bodyConsumed != 0)
        {
            throw new InvalidOperationException("the body has already been partly consumed");
        }
        if (BodyLength > _options.MaxBufferedBody)
        {
            throw new StreamFormatException(
                string.Create(CultureInfo.InvariantCulture, $"body of {BodyLength} bytes is larger than the buffering limit of {_options.MaxBufferedBody}"),
                Offset, ErrorLayer.Legacy, ItemIndex, ItemName, "length");
        }
        var buffer = _bodyBuffer ?? new byte[4096];
        var filled = 0;
        while (true)
        {
            var left = BodyRemaining;
            if (left == 0)
            {
                break;
            }
            if (filled == buffer.Length)
            {
                if (buffer.Length >= _options.MaxBufferedBody)
                {
                    throw new StreamFormatException(
                        string.Create(CultureInfo.InvariantCulture, $"body is larger than the buffering limit of {_options.MaxBufferedBody}"),
                        Offset, ErrorLayer.Legacy, ItemIndex, ItemName, "length");
                }
                Array.Resize(ref buffer, (int)Math.Min(_options.MaxBufferedBody, (long)buffer.Length * 2));
            }
            var n = ReadBody(buffer.AsSpan(filled, (int)Math.Min(buffer.Length - filled, left)));
            if (n == 0)
            {
                break;
            }
            filled += n;
        }
        _bodyBuffer = buffer;
        _bodyBufferLength = filled;
        return buffer.AsSpan(0, filled);
    }

    /// <summary>Skips what is left of the current body. <see cref="Read"/> calls it when the caller did not.</summary>
    public void FinishItem()
    {
        if (_itemFinished)
        {
            return;
        }
        var left = BodyRemaining;
        if (left > 0)
        {
            SkipBody(left);
        }
        _itemFinished = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsSource)
        {
            _src.Dispose();
        }
    }
}
