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
public sealed partial class LegacyStreamReader : IDisposable, IBodyOwner
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
    private BodyCursor _body;
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
        _body = new BodyCursor(source, this, _options.MaxBufferedBody, "length");
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

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsSource)
        {
            _src.Dispose();
        }
    }
}
