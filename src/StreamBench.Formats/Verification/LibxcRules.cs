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
internal sealed class LibxcRules
{
    internal const string PlainCheckpointMessage = "expected no CHECKPOINT in a plain (not Remus/COLO) stream, found one";






    private const uint MaxDuplicateCheck = 1 << 16;

    private const int PvOnlyMask = (1 << 0x02) | (1 << 0x03) | (1 << 0x04) | (1 << 0x05) | (1 << 0x06) | (1 << 0x07) | (1 << 0x0C);
    private const int HvmOnlyMask = (1 << 0x09) | (1 << 0x0A);

    private readonly VerificationContext _ctx;
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
    private bool _requiredChecked;

    public LibxcRules(VerificationContext ctx, LibxlRules libxl)
    {
        _ctx = ctx;
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
        _pageBeforeP2mReported = _vcpuOrderReported = _hvmOrderReported = _vcpu0Basic = _hvmContextSeen = _requiredChecked = false;
        _width = 8;
        _maxPfn = 0;
        var h = _ctx.Reader.ImageHeader!.Value;
        _ctx.ImageVersion = h.Version;
        _ctx.Summary.ImageVersion = h.Version;
        _ctx.Summary.ImageBigEndian = h.BigEndian;
        if (h.Marker != LibxcWire.Marker)
        {
            _ctx.ReportAtItem(ImageMarker, 0, "marker", string.Create(CultureInfo.InvariantCulture,
                $"expected 0x{LibxcWire.Marker:x16}, found 0x{h.Marker:x16}"));
            return;
        }
        if (h.Id != LibxcWire.Id)
        {
            _ctx.ReportAtItem(ImageId, 8, "id", string.Create(CultureInfo.InvariantCulture, $"expected 0x{LibxcWire.Id:x8} (\"XENF\"), found 0x{h.Id:x8}"));
            return;
        }
        if (h.Version is < LibxcWire.MinVersion or > LibxcWire.MaxVersion)
        {
            _ctx.ReportAtItem(ImageVersion, 12, "version", string.Create(CultureInfo.InvariantCulture,
                $"expected {LibxcWire.MinVersion} <= version <= {LibxcWire.MaxVersion}, found {h.Version}"));
        }
        else if (_ctx.Rfc && h.Version != 2)
        {
            _ctx.ReportAtItem(ImageRfcVersion, 12, "version", string.Create(CultureInfo.InvariantCulture,
                $"expected version 2 for the post-copy RFC dialect, found {h.Version}"));
        }
        var reservedOptions = h.Options & ~(ushort)LibxcImageOptions.BigEndian;
        if (reservedOptions != 0)
        {
            _ctx.ReportAtItem(ImageOptions, 16, "options", string.Create(CultureInfo.InvariantCulture,
                $"expected option bits 1..15 clear, found 0x{reservedOptions:x4}"));
        }
        if (h.Reserved1 != 0 || h.Reserved2 != 0)
        {
            _ctx.ReportAtItem(ImageReserved, h.Reserved1 != 0 ? 18 : 20, h.Reserved1 != 0 ? "reserved1" : "reserved2", string.Create(CultureInfo.InvariantCulture,
                $"expected 0x0000:0x00000000, found 0x{h.Reserved1:x4}:0x{h.Reserved2:x8}"));
        }
        if (h.BigEndian)
        {
            _ctx.ReportAtItem(ImageBigEndianIgnored, 16, "options", "endianness bit set (big-endian); verify-stream-v2 ignores it and reads the stream as little-endian");
            _ctx.ReportAtItem(ImageBigEndian, 16, "options", "expected a little-endian stream (bit 0 clear), found the big-endian bit set");
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
            _ctx.ReportAtItem(DomainHeaderType, 0, "type", string.Create(CultureInfo.InvariantCulture,
                $"expected 1 (x86 PV) or 2 (x86 HVM), found {(uint)h.Type}"));
        }
        if (h.Reserved != 0)
        {
            _ctx.ReportAtItem(DomainReserved, 6, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{h.Reserved:x4}"));
        }
        if (h.PageShift != LibxcWire.PageShift)
        {
            _ctx.ReportAtItem(DomainPageShift, 4, "page_shift", string.Create(CultureInfo.InvariantCulture,
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
        if (type < 32 && _ctx.Guest is { } guest)
        {
            var bit = 1 << (int)type;
            if (((bit & PvOnlyMask) != 0 && guest == Wire.DomainType.X86Hvm) || ((bit & HvmOnlyMask) != 0 && guest == Wire.DomainType.X86Pv))
            {
                _ctx.Report(GuestTypeMismatch, null, string.Create(CultureInfo.InvariantCulture,
                    $"expected only {(guest == Wire.DomainType.X86Hvm ? "HVM" : "PV")} and common records, found {r.RecordTypeName} (a {(guest == Wire.DomainType.X86Hvm ? "PV" : "HVM")} record)"));
            }
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
        var known = _ctx.Rfc ? "0x00..0x0F and the RFC's 0x10..0x16" : "0x00..0x12";
        _ctx.Report(UnknownType, "type", string.Create(CultureInfo.InvariantCulture, $"expected a record type in {known}, found 0x{type:x8}"));
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

    /// <summary>Strict: what a complete stream (or the first checkpoint) must carry. Evaluated once.</summary>
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
        if (_ctx.ImageVersion >= 3 && !_ctx.Rfc && !_staticDataEndExplicit)
        {
            _ctx.Report(StaticDataEndMissing, null, "expected STATIC_DATA_END " + what + " of a v3 stream, found none");
        }
    }

    // ---- STATIC_DATA_END and the static records ----

    /// <summary>C: PAGE_DATA / P2M_FRAMES need STATIC_DATA_END; a v2 stream infers it at the first of them.</summary>
    private void NeedStaticDataEnd(VerificationCheck check)
    {
        if (_staticDataEnd)
        {
            return;
        }
        if (_ctx.ImageVersion < 3 || _ctx.Rfc)
        {
            _staticDataEnd = true; // inferred
            return;
        }
        if (!_staticDataEndReported)
        {
            _staticDataEndReported = true;
            _ctx.Report(check, null, "expected STATIC_DATA_END before the first " + _ctx.Reader.RecordTypeName + " of a v3 stream, found none");
        }
    }

    private void StaticDataEnd()
    {
        EmptyBody(StaticDataEndLength);
        if (_ctx.ImageVersion < 3)
        {
            _ctx.Report(StaticDataEndV2, null, string.Create(CultureInfo.InvariantCulture,
                $"expected STATIC_DATA_END only in a v3 stream, found it in a v{_ctx.ImageVersion} stream"));
        }
        if (_staticDataEnd)
        {
            _ctx.Report(StaticDataEndDuplicate, null, _staticDataEndExplicit
                ? "expected one STATIC_DATA_END, found a second"
                : "expected no STATIC_DATA_END after the first PAGE_DATA/P2M_FRAMES of a v2 stream (it was inferred there), found one");
        }
        _staticDataEnd = true;
        _staticDataEndExplicit = true;
    }

    private void X86CpuidPolicy()
    {
        PolicyVersion(CpuidV2);
        var len = _ctx.Reader.BodyLength;
        if (len == 0 || len % LibxcBodySizes.CpuidLeaf != 0)
        {
            _ctx.Report(CpuidLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected a non-zero multiple of {LibxcBodySizes.CpuidLeaf} bytes (xen_cpuid_leaf_t), found {len}"));
        }
        PolicyPosition();
    }

    private void X86MsrPolicy()
    {
        PolicyVersion(MsrV2);
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len == 0 || len % LibxcBodySizes.MsrEntry != 0)
        {
            _ctx.Report(MsrLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected a non-zero multiple of {LibxcBodySizes.MsrEntry} bytes (xen_msr_entry_t), found {len}"));
        }
        else if (_ctx.On(MsrFlags) && len <= _ctx.Window)
        {
            var policy = new MsrPolicyBody(r.BodyPrefix((int)len));
            for (var i = 0; i < policy.Count; i++)
            {
                var e = policy[i];
                if (e.Flags != 0)
                {
                    _ctx.ReportInBody(MsrFlags, (i * LibxcBodySizes.MsrEntry) + 4, string.Create(CultureInfo.InvariantCulture, $"msr[{i}].flags"),
                        string.Create(CultureInfo.InvariantCulture, $"expected flags 0 (MBZ) for MSR 0x{e.Index:x}, found 0x{e.Flags:x}"));
                    break;
                }
            }
        }
        PolicyPosition();
    }

    private void PolicyVersion(VerificationCheck check)
    {
        if (_ctx.ImageVersion < 3)
        {
            _ctx.Report(check, null, string.Create(CultureInfo.InvariantCulture,
                $"expected {_ctx.Reader.RecordTypeName} only in a v3 stream, found it in a v{_ctx.ImageVersion} stream"));
        }
    }

    private void PolicyPosition()
    {
        if (_staticDataEnd)
        {
            _ctx.Report(PolicyAfterStaticDataEnd, null, "expected " + _ctx.Reader.RecordTypeName + " before STATIC_DATA_END (a later one is never applied), found it after");
        }
    }

    // ---- PV records ----

    private void X86PvInfo()
    {
        var r = _ctx.Reader;
        if (_pvInfoSeen)
        {
            _ctx.Report(PvInfoDuplicate, null, "expected one X86_PV_INFO, found a second");
        }
        _pvInfoSeen = true;
        if (r.BodyLength != LibxcBodySizes.X86PvInfo)
        {
            _ctx.Report(PvInfoLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected {LibxcBodySizes.X86PvInfo} bytes, found {r.BodyLength}"));
            return;
        }
        if (!X86PvInfoBody.TryParse(r.BodyPrefix(LibxcBodySizes.X86PvInfo), out var info))
        {
            return;
        }
        var widthOk = info.GuestWidth is 4 or 8;
        var levelsOk = info.PtLevels is 3 or 4;
        if (!widthOk)
        {
            _ctx.ReportInBody(PvInfoWidth, 0, "guest_width", string.Create(CultureInfo.InvariantCulture, $"expected 4 or 8, found {info.GuestWidth}"));
        }
        if (!levelsOk)
        {
            _ctx.ReportInBody(PvInfoLevels, 1, "pt_levels", string.Create(CultureInfo.InvariantCulture, $"expected 3 or 4, found {info.PtLevels}"));
        }
        if (info.Reserved1 != 0 || info.Reserved2 != 0)
        {
            _ctx.ReportInBody(PvInfoReserved, info.Reserved1 != 0 ? 2 : 4, "reserved", string.Create(CultureInfo.InvariantCulture,
                $"expected 0x0000 0x00000000, found 0x{info.Reserved1:x4} 0x{info.Reserved2:x8}"));
        }
        if (widthOk && levelsOk && !info.IsValidCombination)
        {
            _ctx.ReportInBody(PvInfoCombination, 0, "guest_width/pt_levels", string.Create(CultureInfo.InvariantCulture,
                $"expected (8, 4) or (4, 3), found ({info.GuestWidth}, {info.PtLevels})"));
        }
        if (widthOk)
        {
            _width = info.GuestWidth;
        }
    }

    private void X86PvP2mFrames()
    {
        var r = _ctx.Reader;
        NeedStaticDataEnd(P2mNoStaticDataEnd);
        if (!_pvInfoSeen)
        {
            _ctx.Report(P2mNoPvInfo, null, "expected X86_PV_INFO before X86_PV_P2M_FRAMES, found none");
        }
        var len = r.BodyLength;
        if (len < LibxcBodySizes.P2mFramesHeader || len % 8 != 0)
        {
            _ctx.Report(P2mLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least 8 bytes and a multiple of 8, found {len}"));
            return;
        }
        if (!P2mFramesBody.TryParse(r.BodyPrefix(LibxcBodySizes.P2mFramesHeader), out var p2m))
        {
            return;
        }
        var start = p2m.StartPfn;
        var end = p2m.EndPfn;
        if (start > end)
        {
            _ctx.ReportInBody(P2mRange, 0, "start_pfn", string.Create(CultureInfo.InvariantCulture,
                $"expected start_pfn <= end_pfn, found start 0x{start:x} > end 0x{end:x}"));
            return;
        }
        var expected = P2mFramesBody.ExpectedLength(start, end, _width);
        if (len != expected)
        {
            _ctx.Report(P2mFrameCount, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected {expected} bytes (8 + 8 × {(expected - 8) / 8} frames for pfns 0x{start:x}..0x{end:x}, width {_width}), found {len}"));
        }
        // The C restore grows max_pfn to end_pfn (expand_p2m); it never shrinks.
        _maxPfn = _p2mSeen ? Math.Max(_maxPfn, end) : end;
        _p2mSeen = true;
    }

    private void X86PvVcpuBasic() => Vcpu(LibxcRecordType.X86PvVcpuBasic);

    private void X86PvVcpuExtended() => Vcpu(LibxcRecordType.X86PvVcpuExtended);

    private void X86PvVcpuXsave() => Vcpu(LibxcRecordType.X86PvVcpuXsave);

    private void X86PvVcpuMsrs() => Vcpu(LibxcRecordType.X86PvVcpuMsrs);

    private void Vcpu(LibxcRecordType kind)
    {
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len < LibxcBodySizes.VcpuHeader)
        {
            _ctx.Report(VcpuTooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least {LibxcBodySizes.VcpuHeader} bytes (vcpu_id, reserved), found {len}"));
            return;
        }
        if (!PvVcpuBody.TryParse(r.BodyPrefix(LibxcBodySizes.VcpuHeader), out var vcpu))
        {
            return;
        }
        var id = vcpu.VcpuId;
        if (vcpu.Reserved != 0)
        {
            _ctx.ReportInBody(VcpuReserved, 4, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{vcpu.Reserved:x8}"));
        }
        var blob = len - LibxcBodySizes.VcpuHeader;
        if (blob == 0)
        {
            _ctx.Report(VcpuEmpty, "length", string.Create(CultureInfo.InvariantCulture,
                $"header-only {r.RecordTypeName} for vcpu{id} (Xen 4.6-4.8 errata): accepted and ignored"));
            return;
        }
        if (_ctx.IsPv && !_sawPageData && !_vcpuOrderReported)
        {
            _vcpuOrderReported = true;
            _ctx.Report(VcpuBeforePageData, null, "expected vCPU records after the guest's PAGE_DATA, found " + r.RecordTypeName + " before any");
        }
        switch (kind)
        {
            case LibxcRecordType.X86PvVcpuBasic:
            {
                var expected = _width == 8 ? LibxcBodySizes.VcpuGuestContext64 : LibxcBodySizes.VcpuGuestContext32;
                if (blob != expected)
                {
                    _ctx.Report(VcpuBasicSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a {expected}-byte vcpu_guest_context_x86_{(_width == 8 ? 64 : 32)} blob (width {_width}), found {blob}"));
                }
                else if (id == 0)
                {
                    _vcpu0Basic = true;
                }
                break;
            }
            case LibxcRecordType.X86PvVcpuExtended:
                if (blob > LibxcBodySizes.VcpuExtendedMax)
                {
                    _ctx.Report(VcpuExtendedSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a blob of at most {LibxcBodySizes.VcpuExtendedMax} bytes, found {blob}"));
                }
                break;
            case LibxcRecordType.X86PvVcpuXsave:
                if (blob < LibxcBodySizes.VcpuXsaveMin)
                {
                    _ctx.Report(VcpuXsaveSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a blob of at least {LibxcBodySizes.VcpuXsaveMin} bytes (xcr0, xcr0_accum), found {blob}"));
                }
                break;
            case LibxcRecordType.X86PvVcpuMsrs:
                if (blob % LibxcBodySizes.VcpuMsr != 0)
                {
                    _ctx.Report(VcpuMsrsSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a multiple of {LibxcBodySizes.VcpuMsr} bytes (xen_domctl_vcpu_msr_t), found {blob}"));
                }
                else if (_ctx.On(VcpuMsrReserved) && len <= _ctx.Window && PvVcpuBody.TryParse(r.BodyPrefix((int)len), out var msrs))
                {
                    for (var i = 0; i < msrs.MsrCount; i++)
                    {
                        var m = msrs.Msr(i);
                        if (m.Reserved != 0)
                        {
                            _ctx.ReportInBody(VcpuMsrReserved, LibxcBodySizes.VcpuHeader + (i * LibxcBodySizes.VcpuMsr) + 4,
                                string.Create(CultureInfo.InvariantCulture, $"msr[{i}].reserved"),
                                string.Create(CultureInfo.InvariantCulture, $"expected 0 for MSR 0x{m.Index:x}, found 0x{m.Reserved:x}"));
                            break;
                        }
                    }
                }
                break;
        }
    }

    private void SharedInfo()
    {
        var r = _ctx.Reader;
        if (!_pvInfoSeen)
        {
            _ctx.Report(SharedInfoNoPvInfo, null, "expected X86_PV_INFO before SHARED_INFO, found none");
        }
        if (r.BodyLength != LibxcBodySizes.SharedInfo)
        {
            _ctx.Report(SharedInfoLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected {LibxcBodySizes.SharedInfo} bytes, found {r.BodyLength}"));
        }
    }

    // ---- x86 common and HVM ----

    private void X86TscInfo()
    {
        var r = _ctx.Reader;
        if (r.BodyLength != LibxcBodySizes.TscInfo)
        {
            _ctx.Report(TscLength, "length", string.Create(CultureInfo.InvariantCulture, $"expected {LibxcBodySizes.TscInfo} bytes, found {r.BodyLength}"));
            return;
        }
        if (!TscInfoBody.TryParse(r.BodyPrefix(LibxcBodySizes.TscInfo), out var tsc))
        {
            return;
        }
        if (tsc.Reserved != 0)
        {
            _ctx.ReportInBody(TscReserved, 20, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{tsc.Reserved:x8}"));
        }
        if (tsc.Mode > TscInfoBody.MaxKnownMode)
        {
            _ctx.ReportInBody(TscMode, 0, "mode", string.Create(CultureInfo.InvariantCulture,
                $"expected 0 (default), 1 (always emulate) or 2 (never emulate), found {tsc.Mode}"));
        }
    }

    private void HvmOrder()
    {
        if (!_sawPageData && !_hvmOrderReported && (_postcopy is null || !_postcopy.Begun))
        {
            _hvmOrderReported = true;
            _ctx.Report(HvmBeforePageData, null, "expected " + _ctx.Reader.RecordTypeName + " after the guest's PAGE_DATA, found it before any");
        }
    }

    private void HvmContext()
    {
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len == 0)
        {
            _ctx.Report(HvmContextEmpty, "length", "expected a non-empty HVM save blob, found an empty body");
            return;
        }
        _hvmContextSeen = true;
        HvmOrder();
        if (!_ctx.On(HvmContextHeader) || len > LibxcWire.RecordLengthMax)
        {
            return;
        }
        var walker = new HvmContextWalker(r.GetBody());
        var first = true;
        while (walker.TryNext(out var d, out var data))
        {
            if (walker.Status == HvmSaveWalkStatus.DataOutOfBounds)
            {
                _ctx.ReportInBody(HvmContextBounds, d.Offset, "length", string.Create(CultureInfo.InvariantCulture,
                    $"expected the {SaveCode(d.Typecode)} save record's {d.Length} data bytes inside the blob, found only {len - d.DataOffset} left"));
                return;
            }
            if (first)
            {
                first = false;
                if (d.Code != HvmSaveCode.Header || d.Length != HvmSaveWire.HeaderBodySize)
                {
                    _ctx.ReportInBody(HvmContextHeader, d.Offset, "typecode", string.Create(CultureInfo.InvariantCulture,
                        $"expected a HEADER save record (typecode 1, length {HvmSaveWire.HeaderBodySize}) first, found typecode {d.Typecode} length {d.Length}"));
                }
                else if (HvmSaveHeader.TryRead(data, out var h) && (h.Magic != HvmSaveWire.FileMagic || h.Version != HvmSaveWire.FileVersion))
                {
                    _ctx.ReportInBody(HvmContextHeader, d.DataOffset + (h.Magic != HvmSaveWire.FileMagic ? 0 : 4), h.Magic != HvmSaveWire.FileMagic ? "magic" : "version",
                        string.Create(CultureInfo.InvariantCulture,
                            $"expected magic 0x{HvmSaveWire.FileMagic:x8} version {HvmSaveWire.FileVersion}, found magic 0x{h.Magic:x8} version {h.Version}"));
                }
            }
            if (walker.Status == HvmSaveWalkStatus.End && d.Length != 0)
            {
                _ctx.ReportInBody(HvmContextEnd, d.Offset, "length", string.Create(CultureInfo.InvariantCulture,
                    $"expected an empty END save record, found length {d.Length}"));
                return;
            }
        }
        switch (walker.Status)
        {
            case HvmSaveWalkStatus.End when walker.TrailingBytes > 0:
                _ctx.ReportInBody(HvmContextEnd, walker.Position, null, string.Create(CultureInfo.InvariantCulture,
                    $"expected nothing after the END save record, found {walker.TrailingBytes} bytes"));
                break;
            case HvmSaveWalkStatus.MissingEnd:
                _ctx.ReportInBody(HvmContextEnd, walker.Position, null, "expected an END save record (typecode 0) last, found the end of the blob");
                break;
            case HvmSaveWalkStatus.DescriptorTruncated:
                _ctx.ReportInBody(HvmContextBounds, walker.Position, null, string.Create(CultureInfo.InvariantCulture,
                    $"expected an 8-byte save descriptor, found {len - walker.Position} bytes left"));
                break;
        }
    }

    private static string SaveCode(ushort code) => Enum.IsDefined((HvmSaveCode)code)
        ? ((HvmSaveCode)code).ToString().ToUpperInvariant()
        : code.ToString(CultureInfo.InvariantCulture);

    private void HvmParams()
    {
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len < LibxcBodySizes.HvmParamsHeader)
        {
            _ctx.Report(HvmParamsTooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least {LibxcBodySizes.HvmParamsHeader} bytes (count, reserved), found {len}"));
            return;
        }
        if (!HvmParamsBody.TryParse(r.BodyPrefix(LibxcBodySizes.HvmParamsHeader), out var hp))
        {
            return;
        }
        if (hp.Reserved != 0)
        {
            _ctx.ReportInBody(HvmParamsReserved, 4, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{hp.Reserved:x8}"));
        }
        if (hp.Count == 0)
        {
            _ctx.ReportInBody(HvmParamsEmpty, 0, "count", "HVM_PARAMS with count 0 (Xen 4.6-4.8 errata): accepted and ignored");
        }
        var expected = HvmParamsBody.ExpectedLength(hp.Count);
        if (len != expected)
        {
            _ctx.Report(HvmParamsLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected 8 + 16 × {hp.Count} = {expected} bytes, found {len}"));
        }
        HvmOrder();
    }

    // ---- PAGE_DATA ----

    private void PageData()
    {
        NeedStaticDataEnd(PageDataNoStaticDataEnd);
        if (_ctx.IsPv && !_p2mSeen && !_pageBeforeP2mReported)
        {
            _pageBeforeP2mReported = true;
            _ctx.Report(PageDataBeforeP2m, null, "expected X86_PV_P2M_FRAMES before the first PAGE_DATA of a PV stream, found none");
        }
        PageDataLayout(withPages: true, countPages: true, sink: null, out _);
        _sawPageData = true;
    }

    /// <summary>
    /// The PAGE_DATA layout (also the RFC's POSTCOPY_PAGE_DATA, and without pages POSTCOPY_PFNS and POSTCOPY_FAULT). Reads the header and pfn words only: in place when they fit the
    /// window, otherwise streamed through the scratch buffer. Never reads the pages. Returns false when the words could
    /// not be scanned (the record is too short for them).
    /// </summary>
    internal bool PageDataLayout(bool withPages, bool countPages, PfnWordSink? sink, out PageWordStats stats)
    {
        stats = default;
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len <= LibxcBodySizes.PageDataHeader)
        {
            _ctx.Report(PageDataTooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected more than {LibxcBodySizes.PageDataHeader} bytes (header and at least one pfn), found {len}"));
            return false;
        }
        var head = r.BodyPrefix(LibxcBodySizes.PageDataHeader);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(head);
        var reserved = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        if (reserved != 0)
        {
            _ctx.ReportInBody(PageDataReserved, 4, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{reserved:x8}"));
        }
        var prefix = PageDataBody.PrefixLength(count);
        if (len < prefix)
        {
            _ctx.ReportInBody(PageDataPfnWords, 0, "count", string.Create(CultureInfo.InvariantCulture,
                $"expected a body of at least {prefix} bytes for {count} pfn words, found {len}"));
            return false;
        }
        if (count > LibxcWire.MaxBatchSize)
        {
            _ctx.ReportInBody(PageDataBatchSize, 0, "count", string.Create(CultureInfo.InvariantCulture,
                $"expected at most {LibxcWire.MaxBatchSize} pfns per batch (MAX_BATCH_SIZE), found {count}"));
        }
        var inPlace = prefix <= _ctx.Window;
        ReadOnlySpan<byte> words = default;
        if (inPlace)
        {
            words = r.BodyPrefix((int)prefix)[LibxcBodySizes.PageDataHeader..];
            stats.Add(words);
            sink?.Invoke(words, 0);
        }
        else
        {
            var buffer = _ctx.Scratch;
            r.SkipBody(LibxcBodySizes.PageDataHeader);
            var left = (long)count * 8;
            long index = 0;
            while (left > 0)
            {
                var n = r.ReadBody(buffer.AsSpan(0, (int)Math.Min(left, buffer.Length)));
                var chunk = buffer.AsSpan(0, n);
                stats.Add(chunk);
                sink?.Invoke(chunk, index);
                index += n / 8;
                left -= n;
            }
        }
        if (stats.ReservedBitsSet > 0)
        {
            var i = stats.FirstReservedIndex;
            _ctx.ReportInBody(PageDataPfnReserved, PageDataBody.WordOffset(i), string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]"),
                string.Create(CultureInfo.InvariantCulture,
                    $"expected bits 52..59 clear, found 0x{stats.FirstReservedWord & PageWord.ReservedMask:x16} in word 0x{stats.FirstReservedWord:x16} ({stats.ReservedBitsSet} such words)"));
        }
        if (stats.InvalidTypes > 0)
        {
            var i = stats.FirstInvalidTypeIndex;
            _ctx.ReportInBody(PageDataPfnType, PageDataBody.WordOffset(i), string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]"),
                string.Create(CultureInfo.InvariantCulture,
                    $"expected a page type other than 5..8, found {(int)PageWord.TypeOf(stats.FirstInvalidTypeWord)} in word 0x{stats.FirstInvalidTypeWord:x16}"));
        }
        var expected = withPages ? PageDataBody.ExpectedLength(count, stats.DataPages) : prefix;
        if (len != expected)
        {
            _ctx.Report(PageDataLength, "length", withPages
                ? string.Create(CultureInfo.InvariantCulture,
                    $"expected 8 + 8 × {count} + 4096 × {stats.DataPages} = {expected} bytes ({stats.DataPages} pfns carry data), found {len}")
                : string.Create(CultureInfo.InvariantCulture, $"expected 8 + 8 × {count} = {expected} bytes, found {len}"));
        }
        if (_ctx.IsPv && _p2mSeen && stats.MaxPfn > _maxPfn && count > 0)
        {
            var i = inPlace ? FirstAbove(words, _maxPfn) : -1;
            _ctx.ReportInBody(PageDataPfnRange, i >= 0 ? PageDataBody.WordOffset(i) : 0, i >= 0 ? string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]") : "pfn",
                string.Create(CultureInfo.InvariantCulture, $"expected pfns <= max_pfn 0x{_maxPfn:x} (from X86_PV_P2M_FRAMES), found 0x{stats.MaxPfn:x}"));
        }
        // Sorting needs a copy of the pfns: done for batches up to 64 Ki pfns (a bigger one is already a batch-size error).
        if (inPlace && !stats.StrictlyIncreasing && count <= MaxDuplicateCheck && _ctx.On(PageDataDuplicatePfn))
        {
            DuplicatePfns(words);
        }
        if (countPages)
        {
            var summary = _ctx.Summary;
            summary.PageDataRecords++;
            summary.PfnEntries += stats.Words;
            summary.DataPages += stats.DataPages;
        }
        return true;
    }

    private static long FirstAbove(ReadOnlySpan<byte> words, ulong max)
    {
        for (var i = 0; i < words.Length / 8; i++)
        {
            if (PageWord.PfnOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * 8, 8))) > max)
            {
                return i;
            }
        }
        return -1;
    }

    private void DuplicatePfns(ReadOnlySpan<byte> words)
    {
        var n = words.Length / 8;
        var pfns = ArrayPool<ulong>.Shared.Rent(n);
        try
        {
            for (var i = 0; i < n; i++)
            {
                pfns[i] = PageWord.PfnOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * 8, 8)));
            }
            var sorted = pfns.AsSpan(0, n);
            sorted.Sort();
            for (var i = 1; i < n; i++)
            {
                if (sorted[i] != sorted[i - 1])
                {
                    continue;
                }
                var pfn = sorted[i];
                long first = -1, second = -1;
                for (var j = 0; j < n && second < 0; j++)
                {
                    if (PageWord.PfnOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(j * 8, 8))) == pfn)
                    {
                        if (first < 0)
                        {
                            first = j;
                        }
                        else
                        {
                            second = j;
                        }
                    }
                }
                _ctx.ReportInBody(PageDataDuplicatePfn, PageDataBody.WordOffset(second), string.Create(CultureInfo.InvariantCulture, $"pfn[{second}]"),
                    string.Create(CultureInfo.InvariantCulture, $"expected each pfn once per batch, found pfn 0x{pfn:x} at indexes {first} and {second}"));
                return;
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(pfns);
        }
    }
}
