meta:
  id: libxc_stream
  title: Xen libxc migration stream (migration v2, image versions 2 and 3)
  application:
    - xc_domain_save / xc_domain_restore (tools/libs/guest/xg_sr_*.c)
    - verify-stream-v2, convert-legacy-stream (tools/python)
  license: CC0-1.0
  ks-version: 0.11
  endian: le
doc: |
  The libxc layer of a Xen save image or live-migration stream: a big-endian image header, a domain
  header, then 8-octet-aligned records up to END (or, in a Remus/COLO stream, records up to failover
  with CHECKPOINT records in between).

  The record bodies use the order named by the image header's endianness bit; in practice always
  little-endian (the C restore rejects big-endian streams), so this description reads them as
  little-endian.

  Entry points:
  * the top-level type: a bare libxc stream (headers, then records up to END or the end of the
    data; a checkpointed bare stream simply continues past CHECKPOINT records);
  * `libxc_record`: one record (header, body, padding) from the current position, for
    record-by-record comparisons with the hand-written reader;
  * `libxc_segment`: the part of a libxc stream embedded in a libxl stream, which runs up to END
    or CHECKPOINT (control then passes back to libxl, see libxl_stream.ksy).

  Limits of this view: the big-endian stream variant is not described (the C restore rejects it);
  record padding and reserved fields are exposed but not validated (verify-stream-v2 rejects
  non-zero values, the C restore ignores them); ordering rules (FORMATS.md 5) and length rules that
  depend on other records (e.g. the exact X86_PV_P2M_FRAMES length, which needs the guest width
  from X86_PV_INFO) are not checked. A body whose length does not fit its layout (e.g. a
  CPUID policy that is not a multiple of 24 octets) fails with an end-of-stream error inside the
  body. Types 0x10..0x12 are read with their upstream v3 meaning; streams of the post-copy RFC
  dialect must be read with postcopy_rfc.ksy instead.
doc-ref:
  - FORMATS.md 3
  - FORMATS.md 4
  - https://xenbits.xen.org/docs/unstable/specs/libxc-migration-stream.html
seq:
  - id: image_header
    type: ihdr
    doc: Always big-endian.
    doc-ref: FORMATS.md 3.1
  - id: domain_header
    type: dhdr
    doc: Guest type, page size and the saver's Xen version.
    doc-ref: FORMATS.md 3.2
  - id: records
    type: libxc_record
    repeat: until
    repeat-until: _.type == libxc_record_type::end or _io.eof
    doc: |
      Records up to and including END. A checkpointed (Remus/COLO) bare stream has no END: its
      records, CHECKPOINT included, run to the end of the data.
    doc-ref: FORMATS.md 4
types:
  libxc_segment:
    doc: |
      The libxc stream as embedded in a libxl stream: it is not length-delimited, so it runs until
      its own END, or until a CHECKPOINT in a checkpointed stream, where control passes back to the
      libxl layer. After a libxl CHECKPOINT_END the libxc records resume with no new headers
      (with_headers = false).
    doc-ref:
      - FORMATS.md 0
      - FORMATS.md 2.4
      - FORMATS.md 5.4
    params:
      - id: with_headers
        type: bool
        doc: True for the first segment (after LIBXC_CONTEXT), false after CHECKPOINT_END.
    seq:
      - id: image_header
        type: ihdr
        if: with_headers
        doc: Image header (first segment only).
        doc-ref: FORMATS.md 3.1
      - id: domain_header
        type: dhdr
        if: with_headers
        doc: Domain header (first segment only).
        doc-ref: FORMATS.md 3.2
      - id: records
        type: libxc_record
        repeat: until
        repeat-until: >-
          _.type == libxc_record_type::end
          or _.type == libxc_record_type::checkpoint
          or _io.eof
        doc: Records up to and including END or CHECKPOINT.
        doc-ref: FORMATS.md 2.4
    instances:
      ends_with_checkpoint:
        value: records.last.type == libxc_record_type::checkpoint
        doc: True when the segment stopped at a CHECKPOINT (libxl records follow).
        doc-ref: FORMATS.md 5.4

  ihdr:
    doc: The 24-octet image header (struct xc_sr_ihdr). Always big-endian, whatever the endianness bit says.
    doc-ref: FORMATS.md 3.1
    meta:
      endian: be
    seq:
      - id: marker
        type: u8
        valid: '0xffffffffffffffff'
        doc: |
          All ones. A legacy image always has at least one zero bit in its first 8 octets, which
          tells the two formats apart.
        doc-ref: FORMATS.md 3.1
      - id: id
        type: u4
        valid: 0x58454e46
        doc: '"XENF".'
        doc-ref: FORMATS.md 3.1
      - id: version
        type: u4
        doc: 2 or 3. The saver writes 3; restore accepts 2..3. Not validated here.
        doc-ref:
          - FORMATS.md 3.1
          - FORMATS.md 5.3
      - id: options
        type: u2
        doc: |
          Bit 0: endianness of the rest of the stream (see image_option_bits). Bits 1..15 are
          reserved and must be zero (verify checks, the C restore does not).
        doc-ref: FORMATS.md 3.1
      - id: reserved1
        type: u2
        doc: Reserved, zero.
        doc-ref: FORMATS.md 3.1
      - id: reserved2
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 3.1
    instances:
      is_big_endian:
        value: (options & image_option_bits::big_endian.to_i) != 0
        doc: The endianness bit. The C restore rejects big-endian streams.
        doc-ref: FORMATS.md 3.1
      reserved_options:
        value: options & 0xfffe
        doc: Option bits 1..15; verify-stream-v2 rejects any of them.
        doc-ref: FORMATS.md 10

  dhdr:
    doc: The 16-octet domain header (struct xc_sr_dhdr), in stream endianness.
    doc-ref: FORMATS.md 3.2
    seq:
      - id: type
        type: u4
        enum: domain_type
        doc: x86 PV or x86 HVM (PVH streams are HVM streams).
        doc-ref: FORMATS.md 3.2
      - id: page_shift
        type: u2
        doc: 12 (4 KiB pages).
        doc-ref: FORMATS.md 3.2
      - id: reserved
        type: u2
        doc: Reserved, zero (one RFC tree used it as flags, DEMAND = 1).
        doc-ref: FORMATS.md 3.2
      - id: xen_major
        type: u4
        doc: Xen major version of the saver; 0 means the stream was converted from legacy.
        doc-ref: FORMATS.md 3.2
      - id: xen_minor
        type: u4
        doc: Xen minor version, or the converter's own version (1) in a converted stream.
        doc-ref: FORMATS.md 3.2
    instances:
      is_converted_from_legacy:
        value: xen_major == 0
        doc: convert-legacy-stream writes xen_major = 0.
        doc-ref:
          - FORMATS.md 3.2
          - FORMATS.md 6.4

  libxc_record:
    doc: |
      One record: u32 type, u32 body_length, the body, then zero padding up to the next 8-octet
      boundary. Parses from the current position, so it can be used on its own.
    doc-ref:
      - FORMATS.md 2.2
      - FORMATS.md 4
    seq:
      - id: type
        type: u4
        enum: libxc_record_type
        doc: Record type. Bit 31 set marks an optional record.
        doc-ref: FORMATS.md 4.1
      - id: length
        type: u4
        doc: Body length in octets, before padding. The C restore caps it at 128 MiB.
        doc-ref: FORMATS.md 4
      - id: body
        size: length
        doc: The body, decoded according to the type (raw octets for empty and unknown bodies).
        doc-ref: FORMATS.md 4.1
        type:
          switch-on: type
          cases:
            libxc_record_type::page_data: page_data
            libxc_record_type::x86_pv_info: x86_pv_info
            libxc_record_type::x86_pv_p2m_frames: x86_pv_p2m_frames
            libxc_record_type::x86_pv_vcpu_basic: x86_pv_vcpu_basic
            libxc_record_type::x86_pv_vcpu_extended: x86_pv_vcpu_extended
            libxc_record_type::x86_pv_vcpu_xsave: x86_pv_vcpu_xsave
            libxc_record_type::shared_info: shared_info
            libxc_record_type::x86_tsc_info: x86_tsc_info
            libxc_record_type::hvm_context: hvm_context
            libxc_record_type::hvm_params: hvm_params
            libxc_record_type::toolstack: toolstack
            libxc_record_type::x86_pv_vcpu_msrs: x86_pv_vcpu_msrs
            libxc_record_type::checkpoint_dirty_pfn_list: checkpoint_dirty_pfn_list
            libxc_record_type::x86_cpuid_policy: x86_cpuid_policy
            libxc_record_type::x86_msr_policy: x86_msr_policy
      - id: padding
        size: (8 - length % 8) % 8
        doc: Zero on save; ignored by the C restore, rejected by verify when non-zero.
        doc-ref: FORMATS.md 2.2
    instances:
      is_optional:
        value: (type.to_i & 0x80000000) != 0
        doc: Bit 31 set. An unknown optional record may be skipped; an unknown mandatory one fails the restore.
        doc-ref: FORMATS.md 4

  page_data:
    doc: |
      PAGE_DATA: u32 count, u32 reserved, count pfn words, then one 4096-octet page for every pfn
      whose type carries data (the rest of the body).
    doc-ref:
      - FORMATS.md 4.1
      - FORMATS.md 4.2
    seq:
      - id: count
        type: u4
        doc: Number of pfn words (at least 1; the saver sends at most 1024).
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1
      - id: pfns
        type: 'page_word(_index == 0 ? 0 : pfns[_index - 1].data_pages_through)'
        repeat: expr
        repeat-expr: count
        doc: The pfn words; each carries the running count of data pages for `pages`.
        doc-ref: FORMATS.md 4.2
      - id: pages
        size: 4096
        repeat: expr
        repeat-expr: num_data_pages
        doc: One page image per data-carrying pfn, in pfn order.
        doc-ref: FORMATS.md 4.1
    instances:
      num_data_pages:
        value: 'count == 0 ? 0 : pfns.last.data_pages_through'
        doc: How many pfns carry a page (types 0..4 and 9..0xC).
        doc-ref: FORMATS.md 4.2

  page_word:
    doc: |
      One PAGE_DATA pfn word: bits 63..60 the page type (XEN_DOMCTL_PFINFO_* >> 28), bits 59..52
      reserved (zero), bits 51..0 the pfn.
    doc-ref: FORMATS.md 4.2
    params:
      - id: data_pages_before
        type: s4
        doc: Data-carrying pfns earlier in the same batch.
    seq:
      - id: raw
        type: u8
        doc: The whole word.
        doc-ref: FORMATS.md 4.2
    instances:
      type_code:
        value: raw >> 60
        doc: Bits 63..60 as a number.
        doc-ref: FORMATS.md 4.2
      type:
        value: type_code
        enum: page_type
        doc: Bits 63..60.
        doc-ref: FORMATS.md 4.2
      reserved:
        value: (raw >> 52) & 0xff
        doc: Bits 59..52; must be zero (verify rejects non-zero).
        doc-ref: FORMATS.md 4.2
      pfn:
        value: (raw & 0xfffffffffffff).as<u8>
        doc: Bits 51..0.
        doc-ref: FORMATS.md 4.2
      has_data:
        value: type_code <= 4 or (type_code >= 9 and type_code <= 12)
        doc: Whether a 4096-octet page follows for this pfn; `(type & 7) <= 4` without the invalid 5..8.
        doc-ref: FORMATS.md 4.2
      is_valid_type:
        value: type_code < 5 or type_code > 8
        doc: Types 5..8 are invalid (restore fails, verify rejects).
        doc-ref: FORMATS.md 4.2
      data_pages_through:
        value: 'data_pages_before + (has_data ? 1 : 0)'
        doc: Data-carrying pfns up to and including this one.
        doc-ref: FORMATS.md 4.2

  x86_pv_info:
    doc: 'X86_PV_INFO: the PV guest width and page-table levels (8 octets).'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: guest_width
        type: u1
        doc: 4 or 8 (octets per guest word). The C restore accepts only (8, 4) and (4, 3).
        doc-ref: FORMATS.md 4.1
      - id: pt_levels
        type: u1
        doc: 3 or 4.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        size: 6
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1

  x86_pv_p2m_frames:
    doc: |
      X86_PV_P2M_FRAMES: the frames holding the PV p2m for pfns start_pfn..end_pfn inclusive, one
      u64 per frame. The exact entry count depends on the guest width from X86_PV_INFO and is not
      checked here.
    doc-ref: FORMATS.md 4.1
    seq:
      - id: start_pfn
        type: u4
        doc: First pfn covered.
        doc-ref: FORMATS.md 4.1
      - id: end_pfn
        type: u4
        doc: Last pfn covered (the C restore requires start_pfn <= end_pfn).
        doc-ref: FORMATS.md 4.1
      - id: p2m_pfns
        type: u8
        repeat: eos
        doc: One entry per p2m frame.
        doc-ref: FORMATS.md 4.1

  x86_pv_vcpu_basic:
    doc: 'X86_PV_VCPU_BASIC: a vcpu_guest_context_x86_{64,32} (5168 or 2800 octets).'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: vcpu_id
        type: u4
        doc: Below the domain's max vcpus.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1
      - id: context
        size-eos: true
        doc: The vcpu_guest_context blob (XEN_DOMCTL_getvcpucontext).
        doc-ref: FORMATS.md 4.1

  x86_pv_vcpu_extended:
    doc: 'X86_PV_VCPU_EXTENDED: an extended vCPU context (at most 128 octets; may be empty, errata).'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: vcpu_id
        type: u4
        doc: Below the domain's max vcpus.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1
      - id: context
        size-eos: true
        doc: The XEN_DOMCTL_get_ext_vcpucontext blob.
        doc-ref: FORMATS.md 4.1

  x86_pv_vcpu_xsave:
    doc: |
      X86_PV_VCPU_XSAVE: xcr0, xcr0_accum and the xsave area. Xen 4.6-4.8 could send the header
      alone (errata), so xcr0 and xcr0_accum are read only when the body has room for both (at
      least 24 octets); a shorter body is all `area` (the C restore rejects 1..15 octets of blob).
    doc-ref: FORMATS.md 4.1
    seq:
      - id: vcpu_id
        type: u4
        doc: Below the domain's max vcpus.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1
      - id: xcr0
        type: u8
        if: _io.size >= 24
        doc: XCR0.
        doc-ref: FORMATS.md 4.1
      - id: xcr0_accum
        type: u8
        if: _io.size >= 24
        doc: Every XCR0 bit the vCPU has used.
        doc-ref: FORMATS.md 4.1
      - id: area
        size-eos: true
        doc: The xsave area.
        doc-ref: FORMATS.md 4.1

  x86_pv_vcpu_msrs:
    doc: 'X86_PV_VCPU_MSRS: xen_domctl_vcpu_msr_t entries (may be empty, errata).'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: vcpu_id
        type: u4
        doc: Below the domain's max vcpus.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1
      - id: msrs
        type: vcpu_msr
        repeat: eos
        doc: The MSRs (the C restore requires a multiple of 16 octets).
        doc-ref: FORMATS.md 4.1

  vcpu_msr:
    doc: xen_domctl_vcpu_msr_t.
    doc-ref: FORMATS.md 4.1
    seq:
      - id: index
        type: u4
        doc: MSR index.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1
      - id: value
        type: u8
        doc: MSR value.
        doc-ref: FORMATS.md 4.1

  shared_info:
    doc: 'SHARED_INFO: the PV shared_info page (exactly 4096 octets).'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: page
        size-eos: true
        doc: The page image.
        doc-ref: FORMATS.md 4.1

  x86_tsc_info:
    doc: 'X86_TSC_INFO: XEN_DOMCTL_{get,set}tscinfo (exactly 24 octets).'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: mode
        type: u4
        enum: tsc_mode
        doc: TSC mode.
        doc-ref: FORMATS.md 4.1
      - id: khz
        type: u4
        doc: Guest TSC frequency in kHz.
        doc-ref: FORMATS.md 4.1
      - id: nsec
        type: u8
        doc: Elapsed nanoseconds (TSC offset).
        doc-ref: FORMATS.md 4.1
      - id: incarnation
        type: u4
        doc: Incremented on every migration.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1

  hvm_context:
    doc: |
      HVM_CONTEXT: Xen's HVM save blob (XEN_DOMCTL_{get,set}hvmcontext), a packed sequence of save
      records up to the END record. Xen, not libxc, parses it.
    doc-ref: FORMATS.md 4.1
    seq:
      - id: records
        type: hvm_save_record
        repeat: until
        repeat-until: _.typecode == hvm_save_code::end or _io.eof
        doc: Save records up to and including END.
        doc-ref: FORMATS.md 4.1
      - id: trailing
        size-eos: true
        doc: Octets after the END save record (none in a well-formed blob).
        doc-ref: FORMATS.md 4.1

  hvm_save_record:
    doc: |
      One save record: struct hvm_save_descriptor {u16 typecode, u16 instance, u32 length} and
      length octets of data, with no alignment between records.
    doc-ref:
      - FORMATS.md 4.1
      - xen/include/public/hvm/save.h
    seq:
      - id: typecode
        type: u2
        enum: hvm_save_code
        doc: Which save type (DECLARE_HVM_SAVE_TYPE code).
        doc-ref: FORMATS.md 4.1
      - id: instance
        type: u2
        doc: Instance number, e.g. the vCPU for per-vCPU types.
        doc-ref: FORMATS.md 4.1
      - id: length
        type: u4
        doc: Length of the data.
        doc-ref: FORMATS.md 4.1
      - id: data
        size: length
        doc: The save data; the types with a fixed, simple layout are decoded.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
        type:
          switch-on: typecode
          cases:
            hvm_save_code::header: hvm_save_header
            hvm_save_code::lapic: hvm_hw_lapic
            hvm_save_code::lapic_regs: hvm_hw_lapic_regs
            hvm_save_code::rtc: hvm_hw_rtc
            hvm_save_code::pm_timer: hvm_hw_pmtimer
            hvm_save_code::mtrr: hvm_hw_mtrr
            hvm_save_code::tsc_adjust: hvm_tsc_adjust
            hvm_save_code::cpu_msr: hvm_msr

  hvm_save_header:
    doc: struct hvm_save_header (save code HEADER, 24 octets).
    doc-ref:
      - FORMATS.md 4.1
      - xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: magic
        type: u4
        doc: HVM_FILE_MAGIC, 0x54381286 (checked by Xen's hvm_load, not here).
        doc-ref: FORMATS.md 4.1
      - id: version
        type: u4
        doc: HVM_FILE_VERSION, 1.
        doc-ref: FORMATS.md 4.1
      - id: changeset
        type: u8
        doc: Version of Xen that saved the blob.
        doc-ref: FORMATS.md 4.1
      - id: cpuid
        type: u4
        doc: CPUID[1].EAX of the saving machine.
        doc-ref: FORMATS.md 4.1
      - id: gtsc_khz
        type: u4
        doc: Guest TSC frequency in kHz.
        doc-ref: FORMATS.md 4.1
    instances:
      is_magic_valid:
        value: magic == 0x54381286
        doc: Whether magic is HVM_FILE_MAGIC.
        doc-ref: FORMATS.md 4.1

  hvm_hw_lapic:
    doc: struct hvm_hw_lapic (save code LAPIC, one per vCPU).
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: apic_base_msr
        type: u8
        doc: IA32_APIC_BASE.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: disabled
        type: u4
        doc: VLAPIC_xx_DISABLED flags.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: timer_divisor
        type: u4
        doc: APIC timer divisor.
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_hw_lapic_regs:
    doc: struct hvm_hw_lapic_regs (save code LAPIC_REGS, one per vCPU).
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: data
        size: 1024
        doc: The APIC register page.
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_hw_rtc:
    doc: struct hvm_hw_rtc (save code RTC).
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: cmos_data
        size: 14
        doc: CMOS bytes (RTC_CMOS_SIZE).
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: cmos_index
        type: u1
        doc: Index register for two-part operations.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: pad0
        type: u1
        doc: Padding.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: rtc_offset
        type: s8
        doc: The guest clock's offset from host time (24 bytes in all, as Xen 4.17's real HVM saves carry).
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_hw_pmtimer:
    doc: struct hvm_hw_pmtimer (save code PMTIMER).
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: tmr_val
        type: u4
        doc: PM_TMR_BLK.TMR_VAL.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: pm1a_sts
        type: u2
        doc: PM1a status register.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: pm1a_en
        type: u2
        doc: PM1a enable register.
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_hw_mtrr:
    doc: struct hvm_hw_mtrr (save code MTRR, one per vCPU).
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: msr_pat_cr
        type: u8
        doc: IA32_PAT.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: msr_mtrr_var
        type: u8
        repeat: expr
        repeat-expr: 16
        doc: Variable-range physbase/physmask pairs (MTRR_VCNT = 8).
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: msr_mtrr_fixed
        type: u8
        repeat: expr
        repeat-expr: 11
        doc: Fixed-range MTRRs (NUM_FIXED_MSR = 11).
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: msr_mtrr_cap
        type: u8
        doc: IA32_MTRRCAP.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: msr_mtrr_def_type
        type: u8
        doc: IA32_MTRR_DEF_TYPE.
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_tsc_adjust:
    doc: struct hvm_tsc_adjust (save code TSC_ADJUST, one per vCPU).
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: tsc_adjust
        type: u8
        doc: IA32_TSC_ADJUST.
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_msr:
    doc: struct hvm_msr (save code CPU_MSR, one per vCPU, variable length).
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: count
        type: u4
        doc: Number of MSRs.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: pad
        type: u4
        doc: Alignment of msr[] to 8 octets.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: msrs
        type: hvm_one_msr
        repeat: expr
        repeat-expr: count
        doc: The MSRs.
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_one_msr:
    doc: struct hvm_one_msr.
    doc-ref: xen/include/public/arch-x86/hvm/save.h
    seq:
      - id: index
        type: u4
        doc: MSR index.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: reserved
        type: u4
        doc: Reserved.
        doc-ref: xen/include/public/arch-x86/hvm/save.h
      - id: value
        type: u8
        doc: MSR value.
        doc-ref: xen/include/public/arch-x86/hvm/save.h

  hvm_params:
    doc: 'HVM_PARAMS: u32 count, u32 reserved, then count {u64 index, u64 value} (count 0 is tolerated, errata).'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: count
        type: u4
        doc: Number of entries; the length must be exactly 8 + 16 * count.
        doc-ref: FORMATS.md 4.1
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 4.1
      - id: params
        type: hvm_param_entry
        repeat: expr
        repeat-expr: count
        doc: The params.
        doc-ref: FORMATS.md 4.1

  hvm_param_entry:
    doc: One HVM_PARAMS entry.
    doc-ref:
      - FORMATS.md 4.1
      - FORMATS.md 5.2
    seq:
      - id: index
        type: u8
        enum: hvm_param
        doc: HVM_PARAM_* index.
        doc-ref: FORMATS.md 5.2
      - id: value
        type: u8
        doc: The param's value.
        doc-ref: FORMATS.md 4.1

  toolstack:
    doc: 'TOOLSTACK (deprecated): opaque toolstack data. The current C restore fails on it.'
    doc-ref: FORMATS.md 4.1
    seq:
      - id: data
        size-eos: true
        doc: Opaque.
        doc-ref: FORMATS.md 4.1

  checkpoint_dirty_pfn_list:
    doc: 'CHECKPOINT_DIRTY_PFN_LIST: pfns dirtied on the COLO secondary (back channel only).'
    doc-ref:
      - FORMATS.md 4.1
      - FORMATS.md 5.4
    seq:
      - id: pfns
        type: u8
        repeat: eos
        doc: The pfns (count = length / 8).
        doc-ref: FORMATS.md 4.1

  x86_cpuid_policy:
    doc: 'X86_CPUID_POLICY (v3, static data): xen_cpuid_leaf_t entries; a non-zero multiple of 24 octets.'
    doc-ref:
      - FORMATS.md 4.1
      - FORMATS.md 5.3
    seq:
      - id: leaves
        type: cpuid_leaf
        repeat: eos
        doc: The leaves.
        doc-ref: FORMATS.md 4.1

  cpuid_leaf:
    doc: xen_cpuid_leaf_t.
    doc-ref: FORMATS.md 4.1
    seq:
      - id: leaf
        type: u4
        doc: CPUID leaf (EAX input).
        doc-ref: FORMATS.md 4.1
      - id: subleaf
        type: u4
        doc: CPUID subleaf (ECX input); 0xFFFFFFFF means no subleaf.
        doc-ref: FORMATS.md 4.1
      - id: a
        type: u4
        doc: EAX output.
        doc-ref: FORMATS.md 4.1
      - id: b
        type: u4
        doc: EBX output.
        doc-ref: FORMATS.md 4.1
      - id: c
        type: u4
        doc: ECX output.
        doc-ref: FORMATS.md 4.1
      - id: d
        type: u4
        doc: EDX output.
        doc-ref: FORMATS.md 4.1
    instances:
      has_subleaf:
        value: subleaf != 0xffffffff
        doc: False for XEN_CPUID_NO_SUBLEAF.
        doc-ref: FORMATS.md 4.1

  x86_msr_policy:
    doc: 'X86_MSR_POLICY (v3, static data): xen_msr_entry_t entries; a non-zero multiple of 16 octets.'
    doc-ref:
      - FORMATS.md 4.1
      - FORMATS.md 5.3
    seq:
      - id: entries
        type: msr_entry
        repeat: eos
        doc: The MSRs.
        doc-ref: FORMATS.md 4.1

  msr_entry:
    doc: xen_msr_entry_t.
    doc-ref: FORMATS.md 4.1
    seq:
      - id: idx
        type: u4
        doc: MSR index.
        doc-ref: FORMATS.md 4.1
      - id: flags
        type: u4
        doc: Must be zero.
        doc-ref: FORMATS.md 4.1
      - id: val
        type: u8
        doc: MSR value.
        doc-ref: FORMATS.md 4.1

enums:
  libxc_record_type:
    0x00:
      id: end
      doc: The last libxc record; empty body.
      -orig-id: REC_TYPE_END
    0x01:
      id: page_data
      doc: A batch of pfns and their pages.
      -orig-id: REC_TYPE_PAGE_DATA
    0x02:
      id: x86_pv_info
      doc: PV guest width and page-table levels.
      -orig-id: REC_TYPE_X86_PV_INFO
    0x03:
      id: x86_pv_p2m_frames
      doc: The frames holding the PV p2m.
      -orig-id: REC_TYPE_X86_PV_P2M_FRAMES
    0x04:
      id: x86_pv_vcpu_basic
      doc: A PV vcpu_guest_context.
      -orig-id: REC_TYPE_X86_PV_VCPU_BASIC
    0x05:
      id: x86_pv_vcpu_extended
      doc: A PV extended vCPU context.
      -orig-id: REC_TYPE_X86_PV_VCPU_EXTENDED
    0x06:
      id: x86_pv_vcpu_xsave
      doc: A PV vCPU's xsave state.
      -orig-id: REC_TYPE_X86_PV_VCPU_XSAVE
    0x07:
      id: shared_info
      doc: The PV shared_info page.
      -orig-id: REC_TYPE_SHARED_INFO
    0x08:
      id: x86_tsc_info
      doc: TSC mode, frequency, offset and incarnation.
      -orig-id: REC_TYPE_X86_TSC_INFO
    0x09:
      id: hvm_context
      doc: Xen's HVM save blob.
      -orig-id: REC_TYPE_HVM_CONTEXT
    0x0a:
      id: hvm_params
      doc: HVM params as index/value pairs.
      -orig-id: REC_TYPE_HVM_PARAMS
    0x0b:
      id: toolstack
      doc: Deprecated opaque toolstack data.
      -orig-id: REC_TYPE_TOOLSTACK
    0x0c:
      id: x86_pv_vcpu_msrs
      doc: A PV vCPU's MSRs.
      -orig-id: REC_TYPE_X86_PV_VCPU_MSRS
    0x0d:
      id: verify
      doc: 'Debug: all memory sent; later PAGE_DATA is compared, not copied. Empty body.'
      -orig-id: REC_TYPE_VERIFY
    0x0e:
      id: checkpoint
      doc: Ends one consistent checkpoint (Remus/COLO only). Empty body.
      -orig-id: REC_TYPE_CHECKPOINT
    0x0f:
      id: checkpoint_dirty_pfn_list
      doc: 'COLO back channel: pfns dirtied on the secondary.'
      -orig-id: REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST
    0x10:
      id: static_data_end
      doc: v3 only. Ends the static data. Empty body.
      -orig-id: REC_TYPE_STATIC_DATA_END
    0x11:
      id: x86_cpuid_policy
      doc: v3 only. The CPUID policy.
      -orig-id: REC_TYPE_X86_CPUID_POLICY
    0x12:
      id: x86_msr_policy
      doc: v3 only. The MSR policy.
      -orig-id: REC_TYPE_X86_MSR_POLICY

  domain_type:
    0:
      id: reserved
      doc: Reserved (3 = PVH and 4 = ARM in the RFC trees, reserved upstream).
    1:
      id: x86_pv
      doc: x86 PV.
      -orig-id: DHDR_TYPE_X86_PV
    2:
      id: x86_hvm
      doc: x86 HVM (PVH streams are HVM streams).
      -orig-id: DHDR_TYPE_X86_HVM

  image_option_bits:
    1:
      id: big_endian
      doc: Bit 0 of the image header options; clear means little-endian.
      -orig-id: IHDR_OPT_BIG_ENDIAN

  page_type:
    0x0:
      id: no_tab
      doc: A normal page; carries data.
      -orig-id: XEN_DOMCTL_PFINFO_NOTAB
    0x1:
      id: l1_tab
      doc: L1 page table; carries data.
      -orig-id: XEN_DOMCTL_PFINFO_L1TAB
    0x2:
      id: l2_tab
      doc: L2 page table; carries data.
      -orig-id: XEN_DOMCTL_PFINFO_L2TAB
    0x3:
      id: l3_tab
      doc: L3 page table; carries data.
      -orig-id: XEN_DOMCTL_PFINFO_L3TAB
    0x4:
      id: l4_tab
      doc: L4 page table; carries data.
      -orig-id: XEN_DOMCTL_PFINFO_L4TAB
    0x5:
      id: invalid5
      doc: Invalid (LPINTAB with L1..L4 bits clear would be 8; 5..8 are rejected).
    0x6:
      id: invalid6
      doc: Invalid.
    0x7:
      id: invalid7
      doc: Invalid.
    0x8:
      id: invalid8
      doc: Invalid (LPINTAB alone).
      -orig-id: XEN_DOMCTL_PFINFO_LPINTAB
    0x9:
      id: l1_tab_pinned
      doc: Pinned L1 page table; carries data.
    0xa:
      id: l2_tab_pinned
      doc: Pinned L2 page table; carries data.
    0xb:
      id: l3_tab_pinned
      doc: Pinned L3 page table; carries data.
    0xc:
      id: l4_tab_pinned
      doc: Pinned L4 page table; carries data.
    0xd:
      id: broken
      doc: A broken page; no data, not populated.
      -orig-id: XEN_DOMCTL_PFINFO_BROKEN
    0xe:
      id: x_alloc
      doc: Allocate only (Xen 4.2-4.5); no data, populated.
      -orig-id: XEN_DOMCTL_PFINFO_XALLOC
    0xf:
      id: x_tab
      doc: Invalid or unmapped; no data, not populated.
      -orig-id: XEN_DOMCTL_PFINFO_XTAB

  tsc_mode:
    0:
      id: default
      doc: Emulate rdtsc only when needed (Xen's default).
      -orig-id: TSC_MODE_DEFAULT
    1:
      id: always_emulate
      doc: Always emulate rdtsc.
      -orig-id: TSC_MODE_ALWAYS_EMULATE
    2:
      id: never_emulate
      doc: Never emulate rdtsc.
      -orig-id: TSC_MODE_NEVER_EMULATE
    3:
      id: pvrdtscp
      doc: PVRDTSCP (removed from Xen).
      -orig-id: TSC_MODE_PVRDTSCP

  hvm_save_code:
    0:
      id: end
      doc: Closes the blob (empty data).
      -orig-id: HVM_SAVE_CODE(END)
    1:
      id: header
      doc: magic, version, changeset, cpuid, gtsc_khz.
      -orig-id: HVM_SAVE_CODE(HEADER)
    2:
      id: cpu
      doc: One per vCPU.
      -orig-id: HVM_SAVE_CODE(CPU)
    3:
      id: pic
      doc: Two instances.
      -orig-id: HVM_SAVE_CODE(PIC)
    4:
      id: ioapic
      doc: IO-APIC.
      -orig-id: HVM_SAVE_CODE(IOAPIC)
    5:
      id: lapic
      doc: One per vCPU.
      -orig-id: HVM_SAVE_CODE(LAPIC)
    6:
      id: lapic_regs
      doc: One per vCPU.
      -orig-id: HVM_SAVE_CODE(LAPIC_REGS)
    7:
      id: pci_irq
      doc: PCI INTx wires.
      -orig-id: HVM_SAVE_CODE(PCI_IRQ)
    8:
      id: isa_irq
      doc: ISA IRQ wires.
      -orig-id: HVM_SAVE_CODE(ISA_IRQ)
    9:
      id: pci_link
      doc: PCI-ISA link routing.
      -orig-id: HVM_SAVE_CODE(PCI_LINK)
    10:
      id: pit
      doc: i8254 PIT.
      -orig-id: HVM_SAVE_CODE(PIT)
    11:
      id: rtc
      doc: CMOS RTC.
      -orig-id: HVM_SAVE_CODE(RTC)
    12:
      id: hpet
      doc: HPET.
      -orig-id: HVM_SAVE_CODE(HPET)
    13:
      id: pm_timer
      doc: ACPI PM timer.
      -orig-id: HVM_SAVE_CODE(PMTIMER)
    14:
      id: mtrr
      doc: One per vCPU.
      -orig-id: HVM_SAVE_CODE(MTRR)
    15:
      id: viridian_domain
      doc: Viridian per-domain state.
      -orig-id: HVM_SAVE_CODE(VIRIDIAN_DOMAIN)
    16:
      id: cpu_xsave
      doc: One per vCPU, variable length.
      -orig-id: CPU_XSAVE_CODE
    17:
      id: viridian_vcpu
      doc: Viridian per-vCPU state.
      -orig-id: HVM_SAVE_CODE(VIRIDIAN_VCPU)
    18:
      id: vmce_vcpu
      doc: Virtual MCE per-vCPU state.
      -orig-id: HVM_SAVE_CODE(VMCE_VCPU)
    19:
      id: tsc_adjust
      doc: One per vCPU.
      -orig-id: HVM_SAVE_CODE(TSC_ADJUST)
    20:
      id: cpu_msr
      doc: One per vCPU, variable length.
      -orig-id: CPU_MSR_CODE

  hvm_param:
    0:
      id: callback_irq
      -orig-id: HVM_PARAM_CALLBACK_IRQ
    1:
      id: store_pfn
      doc: Sent by the saver; cleared on restore.
      -orig-id: HVM_PARAM_STORE_PFN
    2:
      id: store_evtchn
      -orig-id: HVM_PARAM_STORE_EVTCHN
    4:
      id: pae_enabled
      doc: Silently dropped on restore.
      -orig-id: HVM_PARAM_PAE_ENABLED
    5:
      id: ioreq_pfn
      doc: Sent by the saver; cleared on restore.
      -orig-id: HVM_PARAM_IOREQ_PFN
    6:
      id: bufioreq_pfn
      doc: Sent by the saver; cleared on restore.
      -orig-id: HVM_PARAM_BUFIOREQ_PFN
    9:
      id: viridian
      -orig-id: HVM_PARAM_VIRIDIAN
    10:
      id: timer_mode
      -orig-id: HVM_PARAM_TIMER_MODE
    11:
      id: hpet_enabled
      -orig-id: HVM_PARAM_HPET_ENABLED
    12:
      id: ident_pt
      -orig-id: HVM_PARAM_IDENT_PT
    13:
      id: dm_domain
      -orig-id: HVM_PARAM_DM_DOMAIN
    14:
      id: acpi_s_state
      -orig-id: HVM_PARAM_ACPI_S_STATE
    15:
      id: vm86_tss
      -orig-id: HVM_PARAM_VM86_TSS
    16:
      id: vpt_align
      -orig-id: HVM_PARAM_VPT_ALIGN
    17:
      id: console_pfn
      doc: Initialised on restore.
      -orig-id: HVM_PARAM_CONSOLE_PFN
    18:
      id: console_evtchn
      -orig-id: HVM_PARAM_CONSOLE_EVTCHN
    19:
      id: acpi_ioports_location
      -orig-id: HVM_PARAM_ACPI_IOPORTS_LOCATION
    24:
      id: nested_hvm
      -orig-id: HVM_PARAM_NESTEDHVM
    26:
      id: bufioreq_evtchn
      -orig-id: HVM_PARAM_BUFIOREQ_EVTCHN
    27:
      id: paging_ring_pfn
      -orig-id: HVM_PARAM_PAGING_RING_PFN
    28:
      id: monitor_ring_pfn
      -orig-id: HVM_PARAM_MONITOR_RING_PFN
    29:
      id: sharing_ring_pfn
      -orig-id: HVM_PARAM_SHARING_RING_PFN
    31:
      id: triple_fault_reason
      -orig-id: HVM_PARAM_TRIPLE_FAULT_REASON
    32:
      id: ioreq_server_pfn
      -orig-id: HVM_PARAM_IOREQ_SERVER_PFN
    33:
      id: nr_ioreq_server_pages
      -orig-id: HVM_PARAM_NR_IOREQ_SERVER_PAGES
    34:
      id: vm_generation_id_addr
      -orig-id: HVM_PARAM_VM_GENERATION_ID_ADDR
    35:
      id: altp2m
      -orig-id: HVM_PARAM_ALTP2M
    36:
      id: x87_fip_width
      -orig-id: HVM_PARAM_X87_FIP_WIDTH
    37:
      id: vm86_tss_sized
      -orig-id: HVM_PARAM_VM86_TSS_SIZED
    38:
      id: mca_cap
      -orig-id: HVM_PARAM_MCA_CAP
