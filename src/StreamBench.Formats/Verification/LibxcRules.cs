using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.LibxcChecks;

namespace StreamBench.Formats.Verification;

/// <summary>Receives the pfn words of a PAGE_DATA-like record chunk by chunk (in place or streamed).</summary>
/// <param name="words">Little-endian u64 words.</param>
/// <param name="firstIndex">Index of the first word in the record.</param>
internal delegate void PfnWordSink(ReadOnlySpan<byte> words, long firstIndex);

/// <summary>
/// The libxc layer (FORMATS.md 3, 4, 5): image and domain headers, then one method per record type behind a dispatch
/// table. verify-stream-v2's VerifyLibxc checks (items 15-39) are in every profile; the C restore's
/// (xg_sr_restore*.c) in restore; ordering, required records and structure in strict.
/// </summary>
internal sealed partial class LibxcRules
{
    internal const string PlainCheckpointMessage = "expected no CHECKPOINT in a plain (not Remus/COLO) stream, found one";






    private const uint MaxDuplicateCheck = 1 << 16;

    private readonly VerificationContext _ctx;
    private readonly RecordDictionary _dictionary;
    private readonly Action?[] _handlers;
    private readonly PostcopyRules? _postcopy;
    private readonly uint _lengthMax;

    private bool _pvInfoSeen;
    private byte _width = 8;
    private bool _p2mSeen;
    private ulong _maxPfn;
    private bool _staticDataEnd;
    private bool _staticDataEndExplicit;
    private bool _staticDataEndReported;
    private bool _sawPageData;
    private bool _pageBeforeP2mReported;
    private bool _vcpuOrderReported;
    private bool _hvmOrderReported;
    private bool _vcpu0Basic;
    private bool _hvmContextSeen;
    private bool _hvmParamsSeen;
    private bool _requiredChecked;

    public LibxcRules(VerificationContext ctx, LibxlRules libxl)
    {
        _ctx = ctx;
        _dictionary = RecordDictionary.Libxc(ctx.Reader.Dialect);
        _lengthMax = ctx.Rfc ? LibxcWire.RecordLengthMaxOld : LibxcWire.RecordLengthMax;
        _handlers = new Action?[(int)PostcopyRecordType.PostcopyComplete + 1];
        _handlers[(int)LibxcRecordType.End] = End;
        _handlers[(int)LibxcRecordType.PageData] = PageData;
        _handlers[(int)LibxcRecordType.X86PvInfo] = X86PvInfo;
        _handlers[(int)LibxcRecordType.X86PvP2mFrames] = X86PvP2mFrames;
        _handlers[(int)LibxcRecordType.X86PvVcpuBasic] = X86PvVcpuBasic;
        _handlers[(int)LibxcRecordType.X86PvVcpuExtended] = X86PvVcpuExtended;
        _handlers[(int)LibxcRecordType.X86PvVcpuXsave] = X86PvVcpuXsave;
        _handlers[(int)LibxcRecordType.SharedInfo] = SharedInfo;
        _handlers[(int)LibxcRecordType.X86TscInfo] = X86TscInfo;
        _handlers[(int)LibxcRecordType.HvmContext] = HvmContext;
        _handlers[(int)LibxcRecordType.HvmParams] = HvmParams;
        _handlers[(int)LibxcRecordType.Toolstack] = ToolstackRecord;
        _handlers[(int)LibxcRecordType.X86PvVcpuMsrs] = X86PvVcpuMsrs;
        _handlers[(int)LibxcRecordType.Verify] = Verify;
        _handlers[(int)LibxcRecordType.Checkpoint] = Checkpoint;
        _handlers[(int)LibxcRecordType.CheckpointDirtyPfnList] = CheckpointDirtyPfnList;
        if (ctx.Rfc)
        {
            _postcopy = new PostcopyRules(ctx, this);
            libxl.Attach(_postcopy);
            _postcopy.Register(_handlers);
        }
        else
        {
            _handlers[(int)LibxcRecordType.StaticDataEnd] = StaticDataEnd;
            _handlers[(int)LibxcRecordType.X86CpuidPolicy] = X86CpuidPolicy;
            _handlers[(int)LibxcRecordType.X86MsrPolicy] = X86MsrPolicy;
        }
    }

    /// <summary>The post-copy RFC's rules (RFC dialect only).</summary>
    internal PostcopyRules? Postcopy => _postcopy;

    /// <summary>Whether any PAGE_DATA has been seen (the post-copy rules ask).</summary>
    internal bool SawPageData => _sawPageData;

    // ======================================================================= headers

    public void ImageHeader()
    {
        // A new libxc stream (a second LIBXC_CONTEXT starts a fresh xc_domain_restore): forget the previous one's state.
        _pvInfoSeen = _p2mSeen = _staticDataEnd = _staticDataEndExplicit = _staticDataEndReported = _sawPageData = false;
        _pageBeforeP2mReported = _vcpuOrderReported = _hvmOrderReported = _vcpu0Basic = _hvmContextSeen = _hvmParamsSeen = _requiredChecked = false;
        _width = 8;
        _maxPfn = 0;
        var h = _ctx.Reader.ImageHeader!.Value;
        _ctx.ImageVersion = h.Version;
        _ctx.Summary.ImageVersion = h.Version;
        _ctx.Summary.ImageBigEndian = h.BigEndian;
        if (h.Marker != LibxcWire.Marker)
        {
            _ctx.ReportAtItem(ImageMarker, LibxcImageHeaderLayout.Marker, "marker", string.Create(CultureInfo.InvariantCulture,
                $"expected 0x{LibxcWire.Marker:x16}, found 0x{h.Marker:x16}"));
            return;
        }
        if (h.Id != LibxcWire.Id)
        {
            _ctx.ReportAtItem(ImageId, LibxcImageHeaderLayout.Id, "id", string.Create(CultureInfo.InvariantCulture, $"expected 0x{LibxcWire.Id:x8} (\"XENF\"), found 0x{h.Id:x8}"));
            return;
        }
        if (h.Version is < LibxcWire.MinVersion or > LibxcWire.MaxVersion)
        {
            _ctx.ReportAtItem(ImageVersion, LibxcImageHeaderLayout.Version, "version", string.Create(CultureInfo.InvariantCulture,
                $"expected {LibxcWire.MinVersion} <= version <= {LibxcWire.MaxVersion}, found {h.Version}"));
        }
        else if (_ctx.Rfc && h.Version != 2)
        {
            _ctx.ReportAtItem(ImageRfcVersion, LibxcImageHeaderLayout.Version, "version", string.Create(CultureInfo.InvariantCulture,
                $"expected version 2 for the post-copy RFC dialect, found {h.Version}"));
        }
        var reservedOptions = h.Options & ~(ushort)LibxcImageOptions.BigEndian;
        if (reservedOptions != 0)
        {
            _ctx.ReportAtItem(ImageOptions, LibxcImageHeaderLayout.Options, "options", string.Create(CultureInfo.InvariantCulture,
                $"expected option bits 1..15 clear, found 0x{reservedOptions:x4}"));
        }
        if (h.Reserved1 != 0 || h.Reserved2 != 0)
        {
            _ctx.ReportAtItem(ImageReserved, h.Reserved1 != 0 ? LibxcImageHeaderLayout.Reserved1 : LibxcImageHeaderLayout.Reserved2, h.Reserved1 != 0 ? "reserved1" : "reserved2", string.Create(CultureInfo.InvariantCulture,
                $"expected 0x0000:0x00000000, found 0x{h.Reserved1:x4}:0x{h.Reserved2:x8}"));
        }
        if (h.BigEndian)
        {
            _ctx.ReportAtItem(ImageBigEndianIgnored, LibxcImageHeaderLayout.Options, "options", "endianness bit set (big-endian); verify-stream-v2 ignores it and reads the stream as little-endian");
            _ctx.ReportAtItem(ImageBigEndian, LibxcImageHeaderLayout.Options, "options", "expected a little-endian stream (bit 0 clear), found the big-endian bit set");
        }
    }

    public void DomainHeader()
    {
        var h = _ctx.Reader.DomainHeader!.Value;
        _ctx.Summary.XenMajor = h.XenMajor;
        _ctx.Summary.XenMinor = h.XenMinor;
        if (h.Type is Wire.DomainType.X86Pv or Wire.DomainType.X86Hvm)
        {
            _ctx.Guest = h.Type;
            _ctx.Summary.GuestType = h.Type;
        }
        else
        {
            _ctx.ReportAtItem(DomainHeaderType, LibxcDomainHeaderLayout.Type, "type", string.Create(CultureInfo.InvariantCulture,
                $"expected 1 (x86 PV) or 2 (x86 HVM), found {(uint)h.Type}"));
        }
        if (h.Reserved != 0)
        {
            _ctx.ReportAtItem(DomainReserved, LibxcDomainHeaderLayout.Reserved, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{h.Reserved:x4}"));
        }
        if (h.PageShift != LibxcWire.PageShift)
        {
            _ctx.ReportAtItem(DomainPageShift, LibxcDomainHeaderLayout.PageShift, "page_shift", string.Create(CultureInfo.InvariantCulture,
                $"expected {LibxcWire.PageShift}, found {h.PageShift}"));
        }
    }

    // ======================================================================= records

    /// <summary>One libxc record. Returns whether its padding is to be checked.</summary>
    public bool Record()
    {
        var r = _ctx.Reader;
        var type = r.RecordType;
        var length = r.BodyLength;
        _ctx.Summary.CountRecord(StreamLayer.Libxc, type, length);
        if (length > _lengthMax && _ctx.On(LengthMax))
        {
            // The C restore fails in read_record, before allocating or looking at anything else.
            _ctx.Report(LengthMax, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected a body of at most {_lengthMax} bytes (REC_LENGTH_MAX), found {length}"));
            return false;
        }
        _postcopy?.BeforeRecord(type);
        if (_ctx.Guest is { } guest && _dictionary.Find(type) is { } definition && !definition.IsCarriedBy(guest))
        {
            _ctx.Report(GuestTypeMismatch, null, string.Create(CultureInfo.InvariantCulture,
                $"expected only {(guest == Wire.DomainType.X86Hvm ? "HVM" : "PV")} and common records, found {r.RecordTypeName} (a {definition.GuestLabel} record)"));
        }
        var handler = type < (uint)_handlers.Length ? _handlers[type] : null;
        if (handler is null)
        {
            Unknown(type);
        }
        else
        {
            handler();
        }
        return true;
    }

    private void Unknown(uint type)
    {
        _ctx.Report(UnknownType, "type", string.Create(CultureInfo.InvariantCulture, $"expected a record type in {_dictionary.KnownRange}, found 0x{type:x8}"));
        if (Framing.IsOptional(type))
        {
            _ctx.Report(UnknownOptional, "type", string.Create(CultureInfo.InvariantCulture, $"unknown optional record 0x{type:x8} ignored"));
        }
        else
        {
            _ctx.Report(UnknownMandatory, "type", string.Create(CultureInfo.InvariantCulture,
                $"expected a known record type (an unknown one with bit 31 clear is mandatory), found 0x{type:x8}"));
        }
    }

    private bool EmptyBody(VerificationCheck check)
    {
        var len = _ctx.Reader.BodyLength;
        if (len != 0)
        {
            _ctx.Report(check, "length", string.Create(CultureInfo.InvariantCulture, $"expected an empty body, found {len} bytes"));
            return false;
        }
        return true;
    }

    private void End()
    {
        EmptyBody(EndLength);
        RequiredRecords();
        _postcopy?.OnEnd();
    }

    private void Verify()
    {
        EmptyBody(VerifyLength);
        _ctx.Summary.VerifyMode = true;
    }

    private void Checkpoint()
    {
        EmptyBody(CheckpointLength);
        if (_ctx.Options.CheckpointMode == CheckpointMode.Plain)
        {
            _ctx.Report(CheckpointInPlainStream, null, PlainCheckpointMessage);
        }
        _ctx.OnCheckpoint();
        RequiredRecords();
    }

    private void ToolstackRecord() => _ctx.Report(Toolstack, null,
        "expected no TOOLSTACK record (deprecated; the restore does not handle it), found one");

    private void CheckpointDirtyPfnList() => _ctx.Report(DirtyPfnListForward, null,
        "expected CHECKPOINT_DIRTY_PFN_LIST only on the COLO back channel, found it in the main stream");

    /// <summary>What a complete stream (or the first checkpoint) must carry; each check's profiles say where it applies. Evaluated once.</summary>
    private void RequiredRecords()
    {
        if (_requiredChecked)
        {
            return;
        }
        _requiredChecked = true;
        var what = _ctx.Reader.RecordType == (uint)LibxcRecordType.End ? "before END" : "before the first CHECKPOINT";
        if (!_sawPageData && (_postcopy is null || !_postcopy.SawPostcopyPages))
        {
            _ctx.Report(RequiredPageData, null, "expected at least one PAGE_DATA " + what + ", found none");
        }
        if (_ctx.IsPv)
        {
            if (!_pvInfoSeen)
            {
                _ctx.Report(RequiredPvInfo, null, "expected X86_PV_INFO " + what + " of a PV stream, found none");
            }
            if (!_p2mSeen)
            {
                _ctx.Report(RequiredP2m, null, "expected X86_PV_P2M_FRAMES " + what + " of a PV stream, found none");
            }
            if (!_vcpu0Basic)
            {
                _ctx.Report(Vcpu0BasicMissing, null, "expected X86_PV_VCPU_BASIC for vcpu0 " + what + " of a PV stream, found none");
            }
        }
        if (_ctx.IsHvm && !_hvmContextSeen)
        {
            _ctx.Report(RequiredHvmContext, null, "expected HVM_CONTEXT " + what + " of an HVM stream, found none");
        }
        if (_ctx.IsHvm && !_hvmParamsSeen)
        {
            _ctx.Report(RequiredHvmParams, null, "expected HVM_PARAMS " + what + " of an HVM stream, found none");
        }
        if (_ctx.ImageVersion >= 3 && !_ctx.Rfc && !_staticDataEndExplicit)
        {
            _ctx.Report(StaticDataEndMissing, null, "expected STATIC_DATA_END " + what + " of a v3 stream, found none");
        }
    }
}
