using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.Formats.Records;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using StreamBench.X86;
using DomainPageType = StreamBench.Domain.Pages.PageType;
using WirePageType = StreamBench.Formats.Wire.PageType;
using DomainPvGeometry = StreamBench.Domain.Pv.PvGeometry;

namespace StreamBench.Engine.Restore;

/// <summary>
/// The x86 PV restore ops (xg_sr_restore_x86_pv.c): X86_PV_INFO (set_address_size), X86_PV_P2M_FRAMES (expand the
/// p2m), pfn ≤ max_pfn, page types recorded per pfn, page tables localised (pfn → mfn, populating what they
/// reference), SHARED_INFO installed, vCPU blobs stashed until stream_complete, which installs start_info and the
/// vCPU contexts, pins the page tables and rewrites the guest's p2m.
/// </summary>
internal sealed class PvRestoreOps : X86RestoreOps
{
    private readonly PvDomain _pv;
    private readonly PfnBitmap _pinned = new();
    private readonly VcpuBlobs[] _vcpus;
    private bool _seenPvInfo;
    private bool _seenP2mFrames;

    public PvRestoreOps(RestoreEngine engine, PvDomain domain) : base(engine, domain)
    {
        _pv = domain;
        _vcpus = new VcpuBlobs[domain.MaxVcpus];
    }

    public override bool PfnIsValid(ulong pfn) => pfn <= _pv.MaxPfn;

    public override ulong MaxPfn => _pv.MaxPfn;

    // x86_pv_set_page_type: remember the type (pinning waits for stream_complete). XTAB leaves the pfn alone.
    public override void SetPageType(IncomingRecord record, ulong pfn, WirePageType type, int index)
    {
        if (PageTypes.IsPinned(type))
        {
            _pinned.Add(pfn);
        }
        else
        {
            _pinned.Remove(pfn);
        }

        DomainPageType? domainType = PageTypes.ToDomain(type);
        if (domainType is null || !_pv.IsPopulated(pfn))
        {
            return;
        }

        try
        {
            _pv.SetPageType(pfn, domainType.Value);
        }
        catch (DomainException e)
        {
            throw Engine.Fail(record, RestoreChecks.PageType, e.Message, $"pfn[{index}]", record.At(8 + (8L * index)));
        }
    }

    public override bool Localises(WirePageType type) => PageTypes.TableLevel(type) != 0;

    // x86_pv_localise_page: every present PTE's pfn becomes its mfn; unpopulated frames are populated first.
    public override void LocalisePage(IncomingRecord record, ulong pfn, WirePageType type, Span<byte> page, int index)
    {
        DomainPageType level = PageTypeExtensions.ForTableLevel(PageTypes.TableLevel(type));
        if (!_pv.TryLocalisePageTable(level, page, populateMissing: true, out PageTableError? error))
        {
            // A PTE beyond max_pfn is a stream error the verifier's restore profile names too (C: "Bad mfn", after the
            // out-of-bounds p2m read of finding XN-1); anything else needs the domain (a pfn it cannot back).
            throw error!.Kind == PageTableErrorKind.PfnBeyondMaxPfn
                ? Engine.Fail(record, LibxcChecks.PageDataPtePfn,
                    $"Bad mfn in pfn 0x{pfn:x} (type {type}): {error.Message}", $"page[{index}].L{PageTypes.TableLevel(type)}[{error.Index}]")
                : Engine.Fail(record, RestoreChecks.Localise,
                    $"Failed to localise pfn 0x{pfn:x} (type {type}): {error.Message}", $"page[{index}]");
        }
    }

    public override bool ProcessRecord(IncomingRecord record)
    {
        switch ((LibxcRecordType)record.Type)
        {
            case LibxcRecordType.X86PvInfo:
                HandlePvInfo(record);
                return true;
            case LibxcRecordType.X86PvP2mFrames:
                HandleP2mFrames(record);
                return true;
            case LibxcRecordType.X86PvVcpuBasic:
            case LibxcRecordType.X86PvVcpuExtended:
            case LibxcRecordType.X86PvVcpuXsave:
            case LibxcRecordType.X86PvVcpuMsrs:
                HandleVcpuBlob(record);
                return true;
            case LibxcRecordType.SharedInfo:
                HandleSharedInfo(record);
                return true;
            default:
                return ProcessX86Record(record);
        }
    }

    // handle_x86_pv_info.
    private void HandlePvInfo(IncomingRecord record)
    {
        if (_seenPvInfo)
        {
            throw Engine.Fail(record, LibxcChecks.PvInfoDuplicate, "Already received X86_PV_INFO record", null);
        }

        if (record.Length != LibxcBodySizes.X86PvInfo)
        {
            throw Engine.Fail(record, LibxcChecks.PvInfoLength, $"X86_PV_INFO record is {record.Length} bytes, expected {LibxcBodySizes.X86PvInfo}", "body_length");
        }

        _ = X86PvInfoBody.TryParse(record.Body, out X86PvInfoBody info);
        if (info.GuestWidth is not (4 or 8))
        {
            throw Engine.Fail(record, LibxcChecks.PvInfoWidth, $"guest_width is {info.GuestWidth}, expected 4 or 8", "guest_width", record.At(0));
        }

        if (info.PtLevels is not (3 or 4))
        {
            throw Engine.Fail(record, LibxcChecks.PvInfoLevels, $"pt_levels is {info.PtLevels}, expected 3 or 4", "pt_levels", record.At(1));
        }

        if ((info.Reserved1 != 0 || info.Reserved2 != 0) && Engine.CheckReserved)
        {
            throw Engine.Fail(record, LibxcChecks.PvInfoReserved, "reserved bytes are not zero", "reserved", record.At(2));
        }

        if (!info.IsValidCombination)
        {
            throw Engine.Fail(record, LibxcChecks.PvInfoCombination,
                $"Invalid X86_PV_INFO combination: width {info.GuestWidth}, pt_levels {info.PtLevels}", "guest_width");
        }

        // PV domains start at native width; a compat guest is switched with set_address_size.
        try
        {
            _pv.SetGeometry(DomainPvGeometry.Create(info.GuestWidth, info.PtLevels));
        }
        catch (DomainException e)
        {
            throw Engine.Fail(record, RestoreChecks.PvInfoDomain,
                $"X86_PV_INFO width/pt_levels {info.GuestWidth}/{info.PtLevels} mismatch with the domain ({_pv.Geometry}): {e.Message}", "guest_width");
        }

        _seenPvInfo = true;
    }

    // handle_x86_pv_p2m_frames.
    private void HandleP2mFrames(IncomingRecord record)
    {
        Engine.InferOrRequireStaticDataEnd(record, LibxcChecks.P2mNoStaticDataEnd);
        if (!_seenPvInfo)
        {
            throw Engine.Fail(record, LibxcChecks.P2mNoPvInfo, "Not yet received X86_PV_INFO record", null);
        }

        if (record.Length < LibxcBodySizes.P2mFramesHeader || record.Length % 8 != 0)
        {
            throw Engine.Fail(record, LibxcChecks.P2mLength,
                $"X86_PV_P2M_FRAMES record is {record.Length} bytes, expected at least 8 and a multiple of 8", "body_length");
        }

        ReadOnlySpan<byte> body = record.Body;
        _ = P2mFramesBody.TryParse(body, out P2mFramesBody frames);
        uint start = frames.StartPfn, end = frames.EndPfn;
        if (start > end)
        {
            throw Engine.Fail(record, LibxcChecks.P2mRange, $"End pfn in stream (0x{end:x}) exceeds Start (0x{start:x})", "end_pfn", record.At(4));
        }

        byte width = (byte)_pv.Geometry.GuestWidth;
        long expected = P2mFramesBody.ExpectedLength(start, end, width);
        if (record.Length != expected)
        {
            throw Engine.Fail(record, LibxcChecks.P2mFrameCount,
                $"X86_PV_P2M_FRAMES record wrong size: start_pfn 0x{start:x}, end_pfn 0x{end:x}, length {record.Length}, expected {expected}", "body_length");
        }

        if (end > _pv.MaxPfn)
        {
            try
            {
                _pv.ExpandP2m(end); // expand_p2m
            }
            catch (DomainException e)
            {
                throw Engine.Fail(record, RestoreChecks.Populate, e.Message, "end_pfn", record.At(4));
            }
        }

        int first = (int)(start / PvPaging.FramesPerPage(width));
        for (int i = 0; i < frames.FrameCount; i++)
        {
            _pv.SetP2mFramePfn(first + i, frames.Frame(i));
        }

        _seenP2mFrames = true;
    }

    // handle_x86_pv_vcpu_blob: size checks now, the blob stashed for stream_complete.
    private void HandleVcpuBlob(IncomingRecord record)
    {
        var type = (LibxcRecordType)record.Type;
        if (record.Length < LibxcBodySizes.VcpuHeader)
        {
            throw Engine.Fail(record, LibxcChecks.VcpuTooShort, $"{record.TypeName} record truncated: length {record.Length}, header size {LibxcBodySizes.VcpuHeader}", "body_length");
        }

        ReadOnlySpan<byte> body = record.Body;
        _ = PvVcpuBody.TryParse(body, out PvVcpuBody vcpu);
        if (vcpu.Reserved != 0 && Engine.CheckReserved)
        {
            throw Engine.Fail(record, LibxcChecks.VcpuReserved, $"reserved field is 0x{vcpu.Reserved:x}, expected 0", "reserved", record.At(4));
        }

        ReadOnlySpan<byte> blob = vcpu.Blob;
        if (blob.IsEmpty)
        {
            Engine.Warn($"skipped an empty {record.TypeName} record for vcpu {vcpu.VcpuId} (Xen 4.6-4.8 errata)");
            return;
        }

        if (vcpu.VcpuId >= (uint)_pv.MaxVcpus)
        {
            throw Engine.Fail(record, RestoreChecks.VcpuIdRange,
                $"{record.TypeName} record vcpu_id ({vcpu.VcpuId}) exceeds domain max ({_pv.MaxVcpus - 1})", "vcpu_id", record.At(0));
        }

        ref VcpuBlobs slot = ref _vcpus[vcpu.VcpuId];
        switch (type)
        {
            case LibxcRecordType.X86PvVcpuBasic:
                int size = _pv.Geometry.GuestWidth == 8 ? LibxcBodySizes.VcpuGuestContext64 : LibxcBodySizes.VcpuGuestContext32;
                if (blob.Length != size)
                {
                    throw Engine.Fail(record, LibxcChecks.VcpuBasicSize,
                        $"X86_PV_VCPU_BASIC record wrong size: expected {LibxcBodySizes.VcpuHeader + size}, got {record.Length}", "body_length");
                }

                slot.Basic = blob.ToArray();
                break;
            case LibxcRecordType.X86PvVcpuExtended:
                if (blob.Length > LibxcBodySizes.VcpuExtendedMax)
                {
                    throw Engine.Fail(record, LibxcChecks.VcpuExtendedSize,
                        $"X86_PV_VCPU_EXTENDED record too long: max {LibxcBodySizes.VcpuHeader + LibxcBodySizes.VcpuExtendedMax}, got {record.Length}", "body_length");
                }

                slot.Extended = TrimExtended(blob).ToArray();
                break;
            case LibxcRecordType.X86PvVcpuXsave:
                if (blob.Length < LibxcBodySizes.VcpuXsaveMin)
                {
                    throw Engine.Fail(record, LibxcChecks.VcpuXsaveSize,
                        $"X86_PV_VCPU_XSAVE record too short: min {LibxcBodySizes.VcpuHeader + LibxcBodySizes.VcpuXsaveMin}, got {record.Length}", "body_length");
                }

                slot.Xsave = blob.ToArray();
                break;
            default:
                if (blob.Length % LibxcBodySizes.VcpuMsr != 0)
                {
                    throw Engine.Fail(record, LibxcChecks.VcpuMsrsSize,
                        $"X86_PV_VCPU_MSRS record payload size {blob.Length} expected to be a multiple of {LibxcBodySizes.VcpuMsr}", "body_length");
                }

                slot.Msrs = blob.ToArray();
                break;
        }
    }

    /// <summary>
    /// XEN_DOMCTL_set_ext_vcpucontext reads the structure's own size field (u32 at offset 4): bytes beyond it are not
    /// state. A legacy saver sent the whole 128-byte domctl union, so a converted image carries the context zero-padded
    /// to 128 bytes; the padding is dropped here (only when it is all zeros, so nothing the sender set is lost).
    /// </summary>
    private static ReadOnlySpan<byte> TrimExtended(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 8)
        {
            return blob;
        }

        uint size = BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]);
        return size >= 8 && size < (uint)blob.Length && !blob[(int)size..].ContainsAnyExcept((byte)0) ? blob[..(int)size] : blob;
    }

    // handle_shared_info: vcpu_info and arch copied, event state cleared (LoadSharedInfo).
    private void HandleSharedInfo(IncomingRecord record)
    {
        if (!_seenPvInfo)
        {
            throw Engine.Fail(record, LibxcChecks.SharedInfoNoPvInfo, "Not yet received X86_PV_INFO record", null);
        }

        if (record.Length != LibxcBodySizes.SharedInfo)
        {
            throw Engine.Fail(record, LibxcChecks.SharedInfoLength,
                $"X86_PV_SHARED_INFO record wrong size: length {record.Length}, expected {LibxcBodySizes.SharedInfo}", "body_length");
        }

        _pv.LoadSharedInfo(record.Body);
    }

    // x86_pv_stream_complete: update_vcpu_context (start_info with vcpu0), pin_pagetables, update_guest_p2m.
    public override void StreamComplete(IncomingRecord? at)
    {
        if (_vcpus.Length == 0 || _vcpus[0].Basic is null)
        {
            throw Engine.FailAt(at, LibxcChecks.Vcpu0BasicMissing, "Sender didn't send vcpu0's basic state");
        }

        if (!_seenP2mFrames)
        {
            // C: process_start_info would read the pfn_types array X86_PV_P2M_FRAMES allocates, NULL without it
            // (finding XN-2, third path).
            throw Engine.FailAt(at, LibxcChecks.RequiredP2m, "No X86_PV_P2M_FRAMES record: the p2m and the pfn types were never set up");
        }

        try
        {
            VcpuGuestContextLayout layout = VcpuGuestContextLayout.ForWidth(_pv.Geometry.GuestWidth);
            for (int id = 0; id < _vcpus.Length; id++)
            {
                VcpuBlobs blobs = _vcpus[id];
                if (blobs.Basic is null)
                {
                    continue;
                }

                if (id == 0)
                {
                    // process_start_info: the pfn in vcpu0's edx names start_info.
                    ulong startInfoPfn = layout.ReadWord(blobs.Basic, layout.Rdx);
                    _pv.LocaliseStartInfo(startInfoPfn, Engine.Options.StoreEventChannel, Engine.Options.ConsoleEventChannel);
                }

                _pv.LocaliseVcpuBasic(id, blobs.Basic);
                PvVcpuState state = _pv.GetVcpu(id);
                state.Extended = blobs.Extended;
                state.Xsave = blobs.Xsave;
                state.Msrs.Clear();
                if (blobs.Msrs is { } msrs)
                {
                    for (int i = 0; i + LibxcBodySizes.VcpuMsr <= msrs.Length; i += LibxcBodySizes.VcpuMsr)
                    {
                        state.Msrs.Add(new VcpuMsr(BinaryPrimitives.ReadUInt32LittleEndian(msrs.AsSpan(i)),
                            BinaryPrimitives.ReadUInt64LittleEndian(msrs.AsSpan(i + 8))));
                    }
                }
            }

            // pin_pagetables: every pfn whose last type carried LPINTAB.
            foreach (ulong pfn in _pinned.Enumerate())
            {
                if (_pv.IsPopulated(pfn) && _pv.GetPageInfo(pfn).IsPageTable)
                {
                    _pv.Pin(pfn);
                }
            }

            _pv.WriteGuestP2m(); // update_guest_p2m
        }
        catch (DomainException e)
        {
            throw Engine.FailAt(at, RestoreChecks.StreamComplete, e.Message);
        }
    }

    private struct VcpuBlobs
    {
        public byte[]? Basic;
        public byte[]? Extended;
        public byte[]? Xsave;
        public byte[]? Msrs;
    }
}
