namespace StreamBench.Formats.Verification;

/// <summary>
/// The checks of the libxc v2/v3 stream, in catalog order. Every check is a typed value: the verifier reports it, the restore engine
/// refuses with it (<see cref="StreamFormatException.Check"/>), and a misspelt name does not compile.
/// </summary>
public static class LibxcChecks
{
    // ---- image and domain headers (verify 15-23; C read_headers / setup) ----
    public static readonly VerificationCheck ImageMarker = new("libxc.image.marker", ProfileSet.All, FindingSeverity.Error,
        "The image header starts with the marker 0xFFFFFFFFFFFFFFFF.", "verify 15; C read_headers", fatal: true);
    public static readonly VerificationCheck ImageId = new("libxc.image.id", ProfileSet.All, FindingSeverity.Error,
        "The image id is \"XENF\" (0x58454E46).", "verify 16; C read_headers", fatal: true);
    public static readonly VerificationCheck ImageVersion = new("libxc.image.version", ProfileSet.All, FindingSeverity.Error,
        "The image version is 2 or 3.", "verify 17; C read_headers");
    public static readonly VerificationCheck ImageOptions = new("libxc.image.options", ProfileSet.All, FindingSeverity.Error,
        "Image option bits 1..15 are zero.", "verify 18");
    public static readonly VerificationCheck ImageReserved = new("libxc.image.reserved", ProfileSet.All, FindingSeverity.Error,
        "The image header's reserved u16 and u32 are zero.", "verify 19");
    public static readonly VerificationCheck ImageBigEndianIgnored = new("libxc.image.big-endian-ignored", ProfileSet.Xen, FindingSeverity.Warning,
        "The endianness bit is set; verify-stream-v2's check is dead code, so it accepts the stream and reads it as little-endian.", "verify 20 (dead code)");
    public static readonly VerificationCheck ImageBigEndian = new("libxc.image.big-endian", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "The endianness bit is clear (the C restore cannot handle big-endian streams).", "C read_headers");
    public static readonly VerificationCheck ImageRfcVersion = new("libxc.image.rfc-version", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "A post-copy RFC stream is version 2 (the RFC predates v3).", "FORMATS.md 9");
    public static readonly VerificationCheck DomainHeaderType = new("libxc.domain.type", ProfileSet.All, FindingSeverity.Error,
        "The domain type is 1 (x86 PV) or 2 (x86 HVM).", "verify 21; C setup");
    public static readonly VerificationCheck DomainReserved = new("libxc.domain.reserved", ProfileSet.All, FindingSeverity.Error,
        "The domain header's reserved u16 is zero.", "verify 22");
    public static readonly VerificationCheck DomainPageShift = new("libxc.domain.page-shift", ProfileSet.All, FindingSeverity.Error,
        "page_shift is 12 (4 KiB pages).", "verify 23; C setup");
    // ---- every record (verify 24-26; C read_record, restore loop) ----
    public static readonly VerificationCheck UnknownType = new("libxc.record.unknown-type", ProfileSet.Xen, FindingSeverity.Error,
        "The record type is one of the dialect's (0x00..0x12 upstream); verify-stream-v2 rejects unknown optional records too.", "verify 24");
    public static readonly VerificationCheck UnknownMandatory = new("libxc.record.unknown-mandatory", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "An unknown mandatory record (bit 31 clear) fails the restore.", "spec; C restore loop (\"Mandatory record ... not handled\")");
    public static readonly VerificationCheck UnknownOptional = new("libxc.record.unknown-optional", ProfileSet.RestoreAndStrict, FindingSeverity.Info,
        "An unknown optional record (bit 31 set) is ignored.", "spec; C restore loop (\"Ignoring optional record\")");
    public static readonly VerificationCheck LengthMax = new("libxc.record.length-max", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "A record body is at most REC_LENGTH_MAX (128 MiB; 8 MiB in the post-copy RFC); checked before anything else of the record.", "C read_record");
    public static readonly VerificationCheck Padding = new("libxc.record.padding", ProfileSet.All, FindingSeverity.Error,
        "Record padding bytes are zero.", "verify 25");
    public static readonly VerificationCheck GuestTypeMismatch = new("libxc.record.guest-type", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "PV records appear only in PV streams, HVM records only in HVM streams (the other guest type's restore does not handle them).",
        "C x86_{pv,hvm}_process_record (RECORD_NOT_PROCESSED, mandatory)");
    public static readonly VerificationCheck EndLength = new("libxc.end.length", ProfileSet.All, FindingSeverity.Error, "END has an empty body.", "verify 26");
    public static readonly VerificationCheck VerifyLength = new("libxc.verify.length", ProfileSet.All, FindingSeverity.Error, "VERIFY has an empty body.", "verify 26");
    public static readonly VerificationCheck CheckpointLength = new("libxc.checkpoint.length", ProfileSet.All, FindingSeverity.Error, "CHECKPOINT has an empty body.", "verify 26");
    public static readonly VerificationCheck CheckpointInPlainStream = new("libxc.checkpoint.plain-stream", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "CHECKPOINT appears only in checkpointed (Remus/COLO) streams.", "C handle_checkpoint (\"Found checkpoint in non-checkpointed stream\")");
    // ---- PAGE_DATA (verify 27; C handle_page_data) ----
    public static readonly VerificationCheck PageDataTooShort = new("libxc.page-data.too-short", ProfileSet.All, FindingSeverity.Error,
        "PAGE_DATA (and POSTCOPY_PAGE_DATA) is longer than its 8-byte header.", "verify 27; C");
    public static readonly VerificationCheck PageDataReserved = new("libxc.page-data.reserved", ProfileSet.All, FindingSeverity.Error,
        "PAGE_DATA's reserved u32 is zero.", "verify 27");
    public static readonly VerificationCheck PageDataPfnWords = new("libxc.page-data.pfn-words", ProfileSet.All, FindingSeverity.Error,
        "The body holds count pfn words.", "verify 27; C");
    public static readonly VerificationCheck PageDataPfnReserved = new("libxc.page-data.pfn-reserved", ProfileSet.All, FindingSeverity.Error,
        "Bits 52..59 of every pfn word are zero.", "verify 27");
    public static readonly VerificationCheck PageDataPfnType = new("libxc.page-data.pfn-type", ProfileSet.All, FindingSeverity.Error,
        "No pfn word has a type in 5..8.", "verify 27; C is_known_page_type");
    public static readonly VerificationCheck PageDataLength = new("libxc.page-data.length", ProfileSet.All, FindingSeverity.Error,
        "The length is exactly 8 + 8·count + 4096·(pfns whose type carries data); count 0 is rejected here.", "verify 27; C");
    public static readonly VerificationCheck PageDataPfnRange = new("libxc.page-data.pfn-range", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "PV: every pfn is at most max_pfn as grown by X86_PV_P2M_FRAMES.", "C x86_pv_pfn_is_valid");
    public static readonly VerificationCheck PageDataPtePfn = new("libxc.page-data.pte-pfn", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "PV: every present entry of a page-table page (L1TAB..L4TAB, pinned or not) names a pfn at most max_pfn.",
        "C x86_pv_localise_page (\"Bad mfn for L%lu[%u]\", after its first loop has read the p2m out of bounds: finding XN-1; the engine: restore.localise)");
    public static readonly VerificationCheck PageDataNoStaticDataEnd = new("libxc.page-data.no-static-data-end", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "v3: PAGE_DATA comes after STATIC_DATA_END (v2 infers it at the first PAGE_DATA).", "C handle_page_data (\"No STATIC_DATA_END seen\")");
    public static readonly VerificationCheck PageDataBatchSize = new("libxc.page-data.batch-size", ProfileSet.Strict, FindingSeverity.Error,
        "A batch holds at most 1024 pfns (MAX_BATCH_SIZE).", "FORMATS.md 4.1; xg_sr_save.c");
    public static readonly VerificationCheck PageDataDuplicatePfn = new("libxc.page-data.duplicate-pfn", ProfileSet.Strict, FindingSeverity.Error,
        "No pfn appears twice in one batch (later batches may resend pages: live passes and VERIFY do).", "FORMATS.md 4.2");
    public static readonly VerificationCheck PageDataBeforeP2m = new("libxc.page-data.before-p2m", ProfileSet.Strict, FindingSeverity.Error,
        "PV: X86_PV_P2M_FRAMES comes before the first PAGE_DATA.", "FORMATS.md 5.1 (spec order)");
    // ---- PV records (verify 28-31; C xg_sr_restore_x86_pv.c) ----
    public static readonly VerificationCheck PvInfoLength = new("libxc.pv-info.length", ProfileSet.All, FindingSeverity.Error, "X86_PV_INFO is exactly 8 bytes.", "verify 28; C");
    public static readonly VerificationCheck PvInfoWidth = new("libxc.pv-info.width", ProfileSet.All, FindingSeverity.Error, "guest_width is 4 or 8.", "verify 28; C");
    public static readonly VerificationCheck PvInfoLevels = new("libxc.pv-info.levels", ProfileSet.All, FindingSeverity.Error, "pt_levels is 3 or 4.", "verify 28");
    public static readonly VerificationCheck PvInfoReserved = new("libxc.pv-info.reserved", ProfileSet.All, FindingSeverity.Error, "X86_PV_INFO's reserved bytes are zero.", "verify 28");
    public static readonly VerificationCheck PvInfoCombination = new("libxc.pv-info.combination", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "(guest_width, pt_levels) is (8, 4) or (4, 3).", "C valid_x86_pv_info_combination");
    public static readonly VerificationCheck PvInfoDuplicate = new("libxc.pv-info.duplicate", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "There is one X86_PV_INFO.", "C handle_x86_pv_info (\"Already received X86_PV_INFO record\")");
    public static readonly VerificationCheck P2mLength = new("libxc.p2m-frames.length", ProfileSet.All, FindingSeverity.Error,
        "X86_PV_P2M_FRAMES is at least 8 bytes and a multiple of 8.", "verify 29");
    public static readonly VerificationCheck P2mNoPvInfo = new("libxc.p2m-frames.no-pv-info", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "X86_PV_P2M_FRAMES comes after X86_PV_INFO.", "C handle_x86_pv_p2m_frames");
    public static readonly VerificationCheck P2mNoStaticDataEnd = new("libxc.p2m-frames.no-static-data-end", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "v3: X86_PV_P2M_FRAMES comes after STATIC_DATA_END (v2 infers it at the first P2M_FRAMES).", "C handle_x86_pv_p2m_frames");
    public static readonly VerificationCheck P2mRange = new("libxc.p2m-frames.range", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "start_pfn <= end_pfn.", "C handle_x86_pv_p2m_frames");
    public static readonly VerificationCheck P2mFrameCount = new("libxc.p2m-frames.frame-count", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "The length is exactly 8 + 8·((end/fpp) − (start/fpp) + 1), fpp = 4096/guest_width.", "C handle_x86_pv_p2m_frames");
    public static readonly VerificationCheck VcpuTooShort = new("libxc.vcpu.too-short", ProfileSet.All, FindingSeverity.Error,
        "X86_PV_VCPU_* holds at least the 8-byte header.", "verify 30; C");
    public static readonly VerificationCheck VcpuReserved = new("libxc.vcpu.reserved", ProfileSet.All, FindingSeverity.Error,
        "X86_PV_VCPU_*'s reserved u32 is zero.", "verify 30");
    public static readonly VerificationCheck VcpuEmpty = new("libxc.vcpu.empty", ProfileSet.All, FindingSeverity.Warning,
        "A header-only X86_PV_VCPU_* record (Xen 4.6-4.8 errata) is accepted and ignored.", "verify 30 (warning); spec errata; C");
    public static readonly VerificationCheck VcpuBasicSize = new("libxc.vcpu.basic-size", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "X86_PV_VCPU_BASIC's blob is sizeof(vcpu_guest_context): 5168 for width 8, 2800 for width 4.", "C handle_x86_pv_vcpu_blob");
    public static readonly VerificationCheck VcpuExtendedSize = new("libxc.vcpu.extended-size", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "X86_PV_VCPU_EXTENDED's blob is at most 128 bytes.", "C handle_x86_pv_vcpu_blob");
    public static readonly VerificationCheck VcpuXsaveSize = new("libxc.vcpu.xsave-size", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "X86_PV_VCPU_XSAVE's blob is at least 16 bytes (xcr0, xcr0_accum).", "C handle_x86_pv_vcpu_blob");
    public static readonly VerificationCheck VcpuMsrsSize = new("libxc.vcpu.msrs-size", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "X86_PV_VCPU_MSRS's blob is a multiple of 16 (xen_domctl_vcpu_msr_t).", "C handle_x86_pv_vcpu_blob");
    public static readonly VerificationCheck VcpuMsrReserved = new("libxc.vcpu.msr-reserved", ProfileSet.Strict, FindingSeverity.Error,
        "Every xen_domctl_vcpu_msr_t's reserved u32 is zero (Xen refuses the MSR otherwise).", "xen/include/public/domctl.h");
    public static readonly VerificationCheck VcpuBeforePageData = new("libxc.vcpu.before-page-data", ProfileSet.Strict, FindingSeverity.Error,
        "PV: vCPU records come after the guest's pages.", "FORMATS.md 5.1 (spec order)");
    public static readonly VerificationCheck Vcpu0BasicMissing = new("libxc.vcpu.vcpu0-basic-missing", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "PV: the stream carries vcpu0's X86_PV_VCPU_BASIC.", "C update_vcpu_context (\"Sender didn't send vcpu0's basic state\")");
    public static readonly VerificationCheck SharedInfoLength = new("libxc.shared-info.length", ProfileSet.All, FindingSeverity.Error,
        "SHARED_INFO is exactly 4096 bytes (verify-stream-v2 misprints it as 4906).", "verify 31; C");
    public static readonly VerificationCheck SharedInfoNoPvInfo = new("libxc.shared-info.no-pv-info", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "SHARED_INFO comes after X86_PV_INFO.", "C handle_shared_info");
    // ---- x86 common and HVM (verify 32-34; C) ----
    public static readonly VerificationCheck TscLength = new("libxc.tsc-info.length", ProfileSet.All, FindingSeverity.Error, "X86_TSC_INFO is exactly 24 bytes.", "verify 32; C");
    public static readonly VerificationCheck TscReserved = new("libxc.tsc-info.reserved", ProfileSet.All, FindingSeverity.Error, "X86_TSC_INFO's reserved u32 is zero.", "verify 32");
    public static readonly VerificationCheck TscMode = new("libxc.tsc-info.mode", ProfileSet.Strict, FindingSeverity.Warning,
        "The TSC mode is 0, 1 or 2 (Xen refuses others).", "xen tsc_set_info");
    public static readonly VerificationCheck TscKhz = new("libxc.tsc-info.khz", ProfileSet.Strict, FindingSeverity.Warning,
        "The TSC frequency is 0 (the host's) or at least 1000 kHz: Xen accepts any, and a lab guest restored with 1 kHz did not tick again.",
        "xen tsc_set_info; corpus/findings tsc-khz-1");
    public static readonly VerificationCheck HvmContextEmpty = new("libxc.hvm-context.empty", ProfileSet.All, FindingSeverity.Error, "HVM_CONTEXT is not empty.", "verify 33; C");
    public static readonly VerificationCheck HvmContextHeader = new("libxc.hvm-context.header", ProfileSet.Strict, FindingSeverity.Error,
        "The HVM save blob starts with a 24-byte HEADER record with magic 0x54381286 and version 1.", "xen hvm_load");
    public static readonly VerificationCheck HvmContextBounds = new("libxc.hvm-context.bounds", ProfileSet.Strict, FindingSeverity.Error,
        "Every HVM save descriptor and its data lie inside the blob.", "xen hvm_load");
    public static readonly VerificationCheck HvmContextEnd = new("libxc.hvm-context.end", ProfileSet.Strict, FindingSeverity.Error,
        "The HVM save blob ends with an empty END record and nothing after it.", "xen hvm_load");
    public static readonly VerificationCheck HvmParamsTooShort = new("libxc.hvm-params.too-short", ProfileSet.All, FindingSeverity.Error, "HVM_PARAMS holds at least its 8-byte header.", "verify 34; C");
    public static readonly VerificationCheck HvmParamsReserved = new("libxc.hvm-params.reserved", ProfileSet.All, FindingSeverity.Error, "HVM_PARAMS's reserved u32 is zero.", "verify 34");
    public static readonly VerificationCheck HvmParamsLength = new("libxc.hvm-params.length", ProfileSet.All, FindingSeverity.Error, "HVM_PARAMS is exactly 8 + 16·count bytes.", "verify 34; C");
    public static readonly VerificationCheck HvmParamsEmpty = new("libxc.hvm-params.empty", ProfileSet.All, FindingSeverity.Warning,
        "HVM_PARAMS with count 0 (Xen 4.6-4.8 errata) is accepted and ignored.", "verify 34 (warning); spec errata; C");
    public static readonly VerificationCheck HvmBeforePageData = new("libxc.hvm.before-page-data", ProfileSet.Strict, FindingSeverity.Error,
        "HVM: HVM_CONTEXT and HVM_PARAMS come after the guest's pages (either order between them).", "FORMATS.md 5.2");
    public static readonly VerificationCheck Toolstack = new("libxc.toolstack", ProfileSet.All, FindingSeverity.Error,
        "No TOOLSTACK record (deprecated; the C restore does not handle it).", "verify 35 (DeprecationWarning, rc 2); C");
    public static readonly VerificationCheck DirtyPfnListForward = new("libxc.checkpoint-dirty-pfn-list.forward", ProfileSet.All, FindingSeverity.Error,
        "CHECKPOINT_DIRTY_PFN_LIST belongs to the COLO back channel, not to the main stream.", "verify 36; C");
    // ---- v3 static data (verify 37-39; C) ----
    public static readonly VerificationCheck StaticDataEndLength = new("libxc.static-data-end.length", ProfileSet.All, FindingSeverity.Error, "STATIC_DATA_END has an empty body.", "verify 37");
    public static readonly VerificationCheck StaticDataEndV2 = new("libxc.static-data-end.v2", ProfileSet.All, FindingSeverity.Error, "STATIC_DATA_END appears only in v3 streams.", "verify 37");
    public static readonly VerificationCheck StaticDataEndDuplicate = new("libxc.static-data-end.duplicate", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "There is one STATIC_DATA_END (in v2, the first PAGE_DATA/P2M_FRAMES counts as one).", "C handle_static_data_end (\"Multiple STATIC_DATA_END records found\")");
    public static readonly VerificationCheck StaticDataEndMissing = new("libxc.static-data-end.missing", ProfileSet.Strict, FindingSeverity.Error,
        "A complete v3 stream holds STATIC_DATA_END.", "spec 5.3");
    public static readonly VerificationCheck CpuidV2 = new("libxc.cpuid-policy.v2", ProfileSet.All, FindingSeverity.Error, "X86_CPUID_POLICY appears only in v3 streams.", "verify 38");
    public static readonly VerificationCheck CpuidLength = new("libxc.cpuid-policy.length", ProfileSet.All, FindingSeverity.Error,
        "X86_CPUID_POLICY is a non-zero multiple of 24 bytes.", "verify 38; C");
    public static readonly VerificationCheck MsrV2 = new("libxc.msr-policy.v2", ProfileSet.All, FindingSeverity.Error, "X86_MSR_POLICY appears only in v3 streams.", "verify 39");
    public static readonly VerificationCheck MsrLength = new("libxc.msr-policy.length", ProfileSet.All, FindingSeverity.Error,
        "X86_MSR_POLICY is a non-zero multiple of 16 bytes.", "verify 39; C");
    public static readonly VerificationCheck MsrFlags = new("libxc.msr-policy.flags", ProfileSet.Strict, FindingSeverity.Error,
        "Every xen_msr_entry_t's flags field is zero (MBZ).", "xen/include/public/arch-x86/xen.h");
    public static readonly VerificationCheck PolicyAfterStaticDataEnd = new("libxc.policy.after-static-data-end", ProfileSet.Strict, FindingSeverity.Error,
        "CPUID/MSR policy records come before STATIC_DATA_END (a later one is stored but never applied).", "FORMATS.md 5.3");
    // ---- required records (strict; vcpu0 basic and PV P2M_FRAMES are the C restore's too) ----
    public static readonly VerificationCheck RequiredPageData = new("libxc.required.page-data", ProfileSet.Strict, FindingSeverity.Error,
        "A complete stream (or first checkpoint) carries at least one PAGE_DATA.", "FORMATS.md 5");
    public static readonly VerificationCheck RequiredPvInfo = new("libxc.required.pv-info", ProfileSet.Strict, FindingSeverity.Error,
        "A complete PV stream carries X86_PV_INFO.", "FORMATS.md 5.1");
    public static readonly VerificationCheck RequiredP2m = new("libxc.required.p2m-frames", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "A complete PV stream carries X86_PV_P2M_FRAMES.",
        "FORMATS.md 5.1; C x86_pv_stream_complete -> process_start_info reads the NULL pfn_types without it (finding XN-2, third path)");
    public static readonly VerificationCheck RequiredHvmContext = new("libxc.required.hvm-context", ProfileSet.Strict, FindingSeverity.Error,
        "A complete HVM stream carries HVM_CONTEXT.", "FORMATS.md 5.2; C x86_hvm_stream_complete");
    public static readonly VerificationCheck RequiredHvmParams = new("libxc.required.hvm-params", ProfileSet.Strict, FindingSeverity.Error,
        "A complete HVM stream carries HVM_PARAMS (the saver always writes it; Xen restored a lab PVH guest without it, and the guest never ran).",
        "FORMATS.md 5.2; corpus/findings hvm-params-dropped");
}
