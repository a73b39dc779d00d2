meta:
  id: postcopy_rfc
  title: Xen post-copy live migration RFC stream dialect (Joshua Otto, 2017/2018; never merged)
  application: jtotto/xen branches postcopy and postcopy-v2 (commit e335d572b8)
  license: CC0-1.0
  ks-version: 0.11
  imports:
    - libxc_stream
    - libxl_stream
  endian: le
doc: |
  The post-copy RFC's dialect of the libxl + libxc stream. It is based on libxc stream version 2
  and adds libxc records 0x10..0x16 and libxl record 0x6. Because RFC 0x10..0x12 collide with
  upstream v3 (STATIC_DATA_END, X86_CPUID_POLICY, X86_MSR_POLICY), this dialect has its own
  record-type enums (`postcopy_record_type`, `libxl_postcopy_record_type`), and its records keep
  the raw type number: `rfc_type` names it in the RFC dictionary; below 0x10 (libxc) and 0x6
  (libxl) the RFC uses the upstream v2 records and bodies, named by libxc_stream's
  `libxc_record_type` and libxl_stream's `libxl_record_type`. (kaitai-struct-compiler 0.11 cannot
  attach an imported enum to a value instance, so there is no `base_type` instance.)
  A reader must pick this dialect explicitly; it can never be guessed from the stream.

  RFC HVM order: ihdr, dhdr, PAGE_DATA*, POSTCOPY_BEGIN, TSC_INFO, HVM_CONTEXT, HVM_PARAMS,
  POSTCOPY_PFNS_BEGIN, POSTCOPY_PFNS*, POSTCOPY_TRANSITION, then libxl EMULATOR_* records and
  POSTCOPY_TRANSITION_END, then POSTCOPY_PAGE_DATA* (and the libxc END). The destination answers
  on the back channel with POSTCOPY_FAULT* and POSTCOPY_COMPLETE (bare records: read them with
  `rfc_libxc_record`).

  Limits of this view: as in libxl_stream.ksy (no big-endian variant, padding not validated,
  a stream cut inside a record fails with an end-of-stream error). The rules that every
  POSTCOPY_PAGE_DATA pfn was announced in POSTCOPY_PFNS and that XTAB/BROKEN/XALLOC are
  forbidden there are not checked. The 8 MiB record limit of the RFC tree is not checked.
doc-ref: FORMATS.md 9
seq:
  - id: header
    type: libxl_stream::libxl_header
    doc: The libxl header (big-endian), as upstream.
    doc-ref:
      - FORMATS.md 2.1
      - FORMATS.md 9
  - id: entries
    type: rfc_libxl_entry
    repeat: until
    repeat-until: _.record.type == 0 or _io.eof
    doc: libxl records, each with the libxc segment that follows it, up to and including libxl END.
    doc-ref: FORMATS.md 9
types:
  rfc_libxl_entry:
    doc: |
      One libxl record and the libxc segment it hands control to: after LIBXC_CONTEXT the libxc
      stream with its headers (up to POSTCOPY_TRANSITION, END or CHECKPOINT); after
      POSTCOPY_TRANSITION_END the post-copy memory phase (no headers); after CHECKPOINT_END the
      next checkpoint's records (no headers).
    doc-ref: FORMATS.md 9
    seq:
      - id: record
        type: rfc_libxl_record
        doc: The libxl record.
        doc-ref: FORMATS.md 9
      - id: libxc
        type: rfc_libxc_segment(true)
        if: record.type == 1
        doc: The libxc stream handed over by LIBXC_CONTEXT.
        doc-ref: FORMATS.md 9
      - id: libxc_postcopy
        type: rfc_libxc_segment(false)
        if: record.type == 6
        doc: The post-copy memory phase handed back by POSTCOPY_TRANSITION_END.
        doc-ref: FORMATS.md 9
      - id: libxc_checkpoint
        type: rfc_libxc_segment(false)
        if: record.type == 4 and not _io.eof
        doc: The next checkpoint's libxc records after CHECKPOINT_END.
        doc-ref: FORMATS.md 2.4

  rfc_libxl_record:
    doc: One libxl record in the RFC dictionary (upstream 0..5 plus POSTCOPY_TRANSITION_END).
    doc-ref:
      - FORMATS.md 2.2
      - FORMATS.md 9
    seq:
      - id: type
        type: u4
        doc: Record type, kept as a number; rfc_type names 0x6, libxl_stream's libxl_record_type names 0..5.
        doc-ref: FORMATS.md 9
      - id: length
        type: u4
        doc: Body length in octets, before padding.
        doc-ref: FORMATS.md 2.2
      - id: body
        size: length
        doc: The body (upstream layouts for 2, 3 and 5; 0x6 is empty).
        doc-ref: FORMATS.md 2.3
        type:
          switch-on: type
          cases:
            2: libxl_stream::emulator_xenstore_data
            3: libxl_stream::emulator_context
            5: libxl_stream::checkpoint_state
      - id: padding
        size: (8 - length % 8) % 8
        doc: Zero padding to 8 octets.
        doc-ref: FORMATS.md 2.2
    instances:
      rfc_type:
        value: type
        enum: libxl_postcopy_record_type
        doc: The type in the RFC's own libxl dictionary (0x6).
        doc-ref: FORMATS.md 9
      is_rfc_record:
        value: type == 6
        doc: Whether this is the RFC's POSTCOPY_TRANSITION_END.
        doc-ref: FORMATS.md 9

  rfc_libxc_stream:
    doc: A bare RFC libxc stream (no libxl layer), up to END or the end of the data.
    doc-ref: FORMATS.md 9
    seq:
      - id: image_header
        type: libxc_stream::ihdr
        doc: Image header (version 2 in the RFC).
        doc-ref: FORMATS.md 3.1
      - id: domain_header
        type: libxc_stream::dhdr
        doc: Domain header.
        doc-ref: FORMATS.md 3.2
      - id: records
        type: rfc_libxc_record
        repeat: until
        repeat-until: _.type == 0 or _io.eof
        doc: Records up to and including END.
        doc-ref: FORMATS.md 9

  rfc_libxc_segment:
    doc: |
      A run of RFC libxc records inside the libxl stream: up to END, CHECKPOINT or
      POSTCOPY_TRANSITION (which hands the stream to libxl).
    doc-ref: FORMATS.md 9
    params:
      - id: with_headers
        type: bool
        doc: True after LIBXC_CONTEXT; false after POSTCOPY_TRANSITION_END or CHECKPOINT_END.
    seq:
      - id: image_header
        type: libxc_stream::ihdr
        if: with_headers
        doc: Image header.
        doc-ref: FORMATS.md 3.1
      - id: domain_header
        type: libxc_stream::dhdr
        if: with_headers
        doc: Domain header.
        doc-ref: FORMATS.md 3.2
      - id: records
        type: rfc_libxc_record
        repeat: until
        repeat-until: _.type == 0 or _.type == 0x0e or _.type == 0x13 or _io.eof
        doc: Records up to and including END, CHECKPOINT or POSTCOPY_TRANSITION.
        doc-ref: FORMATS.md 9

  rfc_libxc_record:
    doc: |
      One libxc record in the RFC dictionary: upstream v2 records 0x00..0x0F plus the RFC's
      0x10..0x16. Parses from the current position, so it can be used on its own.
    doc-ref:
      - FORMATS.md 4
      - FORMATS.md 9
    seq:
      - id: type
        type: u4
        doc: Record type, kept as a number; rfc_type names 0x10..0x16, libxc_stream's libxc_record_type names 0x00..0x0F.
        doc-ref: FORMATS.md 9
      - id: length
        type: u4
        doc: Body length in octets, before padding (the RFC tree caps it at 8 MiB).
        doc-ref: FORMATS.md 4
      - id: body
        size: length
        doc: The body (upstream v2 layouts below 0x10, RFC layouts above).
        doc-ref: FORMATS.md 9
        type:
          switch-on: type
          cases:
            0x01: libxc_stream::page_data
            0x02: libxc_stream::x86_pv_info
            0x03: libxc_stream::x86_pv_p2m_frames
            0x04: libxc_stream::x86_pv_vcpu_basic
            0x05: libxc_stream::x86_pv_vcpu_extended
            0x06: libxc_stream::x86_pv_vcpu_xsave
            0x07: libxc_stream::shared_info
            0x08: libxc_stream::x86_tsc_info
            0x09: libxc_stream::hvm_context
            0x0a: libxc_stream::hvm_params
            0x0b: libxc_stream::toolstack
            0x0c: libxc_stream::x86_pv_vcpu_msrs
            0x0f: libxc_stream::checkpoint_dirty_pfn_list
            0x12: postcopy_pfns
            0x14: libxc_stream::page_data
            0x15: postcopy_fault
      - id: padding
        size: (8 - length % 8) % 8
        doc: Zero padding to 8 octets.
        doc-ref: FORMATS.md 2.2
    instances:
      rfc_type:
        value: type
        enum: postcopy_record_type
        doc: The type in the RFC dictionary (meaningful for 0x10..0x16).
        doc-ref: FORMATS.md 9
      is_rfc_record:
        value: type >= 0x10 and type <= 0x16
        doc: Whether the type is one of the RFC's own records.
        doc-ref: FORMATS.md 9

  postcopy_pfns:
    doc: |
      POSTCOPY_PFNS: the PAGE_DATA layout without page contents: u32 count, u32 reserved, count
      pfn words (type in bits 63..60, pfn in 51..0).
    doc-ref: FORMATS.md 9
    seq:
      - id: count
        type: u4
        doc: Number of pfn words.
        doc-ref: FORMATS.md 9
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 9
      - id: pfns
        type: libxc_stream::page_word(0)
        repeat: expr
        repeat-expr: count
        doc: The announced pfns with their types; no page data follows.
        doc-ref:
          - FORMATS.md 4.2
          - FORMATS.md 9

  postcopy_fault:
    doc: |
      POSTCOPY_FAULT (destination to source): the POSTCOPY_PFNS layout, but the pfns carry no
      type bits.
    doc-ref: FORMATS.md 9
    seq:
      - id: count
        type: u4
        doc: Number of pfns.
        doc-ref: FORMATS.md 9
      - id: reserved
        type: u4
        doc: Reserved, zero.
        doc-ref: FORMATS.md 9
      - id: pfns
        type: u8
        repeat: expr
        repeat-expr: count
        doc: The pfns the destination faulted on.
        doc-ref: FORMATS.md 9

enums:
  postcopy_record_type:
    0x10:
      id: postcopy_begin
      doc: Empty; the CPU context records (TSC_INFO, HVM_CONTEXT, HVM_PARAMS) follow immediately. Collides with upstream STATIC_DATA_END.
    0x11:
      id: postcopy_pfns_begin
      doc: Empty; the destination prepares paging. Collides with upstream X86_CPUID_POLICY.
    0x12:
      id: postcopy_pfns
      doc: PAGE_DATA layout without page contents. Collides with upstream X86_MSR_POLICY.
    0x13:
      id: postcopy_transition
      doc: Empty; libxc hands the stream to libxl for the device-model records.
    0x14:
      id: postcopy_page_data
      doc: PAGE_DATA layout; every pfn announced before; XTAB, BROKEN and XALLOC forbidden.
    0x15:
      id: postcopy_fault
      doc: Back channel; pfns the destination faulted on (no type bits).
    0x16:
      id: postcopy_complete
      doc: Back channel; empty; the destination has every page.

  libxl_postcopy_record_type:
    0x6:
      id: postcopy_transition_end
      doc: Empty; returns control to libxc for the post-copy memory phase. Not allocated upstream.
