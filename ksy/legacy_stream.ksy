meta:
  id: legacy_stream
  title: Xen legacy (pre-4.6) libxc save format, as convert-legacy-stream reads it
  application:
    - xc_domain_save / xc_domain_restore of Xen 4.5 and older
    - convert-legacy-stream (tools/python/scripts)
  license: CC0-1.0
  ks-version: 0.11
  imports:
    - libxc_stream
  endian: le
doc: |
  The legacy libxc stream: a header (p2m size; for PV guests the extended-info blocks and the p2m
  frame list), a body of chunks ending with chunk id 0, then a PV or HVM tail and, for HVM, the
  QEMU record. Everything is native little-endian. The layout depends on two things the stream
  does not record, so they are parameters: the toolstack word size ("ulong" is 4 or 8 octets,
  convert-legacy-stream -w 32|64) and the guest type (-g pv|hvm).

  The running-count idiom (`..._through` instances fed into the next element as a parameter) is
  how this description counts data pages in a batch, online vCPUs across VCPU_INFO chunks (the
  converter appends to its online map on every VCPU_INFO, so the counts add up) and the last
  "vcpu"/"xcnt" extended-info blocks.

  Limits of this view: one body and one tail are parsed; a Remus stream, which repeats body and
  tail until failover, leaves the later iterations unparsed after the first tail. Chunks whose
  payload convert-legacy-stream cannot read (TMEM, TMEM_EXTRA, ENABLE_COMPRESSION, whose
  "format B" body follows) and unknown chunk ids fail with a validation error, as the converter
  fails; COMPRESSED_DATA's payload is read but not decompressed. In the PV tail the vCPU records
  are counted from the VCPU_INFO bitmaps; their vCPU ids (the set bits, in order) are left to the
  reader. The converter's own rejections are not enforced: batches above 1024
  (`exceeds_max_batch`), max_vcpu_id above 4095 (`exceeds_max_vcpu_id`) and unknown extended-info
  blocks (`is_known`) are exposed as instances; duplicate pfns in a batch are not detected. A guest
  width that cannot be derived (no "vcpu" block, or one of another size) gives an empty p2m frame
  list, where the converter would fail.
doc-ref:
  - FORMATS.md 6
  - tools/python/xen/migration/legacy.py
params:
  - id: toolstack_width
    type: u1
    doc: Toolstack word size in bits, 32 or 64 (convert-legacy-stream -w).
    doc-ref: FORMATS.md 6
  - id: guest
    type: u1
    enum: guest_type
    doc: Guest type, which the stream does not record (convert-legacy-stream -g).
    doc-ref: FORMATS.md 6
seq:
  - id: parameter_check
    size: 0
    valid:
      expr: (toolstack_width == 32 or toolstack_width == 64) and (guest == guest_type::pv or guest == guest_type::hvm)
    doc: Fails unless toolstack_width is 32 or 64 and guest is pv or hvm (reads nothing).
    doc-ref: FORMATS.md 6
  - id: p2m_size
    type:
      switch-on: toolstack_width
      cases:
        32: u4
        64: u8
    doc: Number of p2m entries (ulong).
    doc-ref: FORMATS.md 6.1
  - id: extended_info
    type: pv_extended_info(toolstack_width)
    if: guest == guest_type::pv
    doc: PV only. The extended-info blocks.
    doc-ref: FORMATS.md 6.1
  - id: p2m_frame_list
    type:
      switch-on: toolstack_width
      cases:
        32: u4
        64: u8
    repeat: expr
    repeat-expr: num_p2m_frames
    if: guest == guest_type::pv
    doc: PV only. The p2m frame list, ulong[(p2m_size - 1) / fpp + 1] where fpp = 4096 / guest width.
    doc-ref: FORMATS.md 6.1
  - id: chunks
    type: 'chunk(toolstack_width, _index == 0 ? 0 : chunks[_index - 1].online_vcpus_through)'
    repeat: until
    repeat-until: _.chunk_id == 0
    doc: The body, up to and including the chunk with id 0.
    doc-ref: FORMATS.md 6.2
  - id: pv_tail
    type: >-
      pv_tail_section(toolstack_width, chunks.last.online_vcpus_through,
      extended_info.vcpu_context_size, extended_info.has_extv, extended_info.xsave_length)
    if: guest == guest_type::pv
    doc: PV only. Unmapped pfns, per-vCPU contexts and the shared_info page.
    doc-ref: FORMATS.md 6.3
  - id: hvm_tail
    type: hvm_tail_section
    if: guest == guest_type::hvm
    doc: HVM only. Magic pfns and the Xen HVM context.
    doc-ref: FORMATS.md 6.3
  - id: qemu
    type: qemu_record
    if: guest == guest_type::hvm and not _io.eof
    doc: HVM only. The device-model record after the libxc tail (absent when the stream ends there).
    doc-ref: FORMATS.md 6.3
instances:
  guest_width:
    value: 'guest == guest_type::pv ? extended_info.guest_width : 0'
    doc: PV guest word size in octets (8 or 4) from the "vcpu" block size; 0 if unknown or HVM.
    doc-ref: FORMATS.md 6.1
  num_p2m_frames:
    value: '(guest == guest_type::hvm or guest_width == 0 or p2m_size == 0) ? 0 : (p2m_size - 1) / (4096 / guest_width).as<u8> + 1'
    doc: Entries in the p2m frame list.
    doc-ref: FORMATS.md 6.1
types:
  pv_extended_info:
    doc: |
      The PV extended info: ulong marker (~0), u32 total length, then {char id[4]; u32 size;
      data} blocks filling exactly that length.
    doc-ref: FORMATS.md 6.1
    params:
      - id: width
        type: u1
        doc: Toolstack word size in bits.
    seq:
      - id: marker
        type:
          switch-on: width
          cases:
            32: u4
            64: u8
        valid:
          expr: 'width == 32 ? _ == 0xffffffff : _ == 0xffffffffffffffff'
        doc: ~0 as a ulong (the converter rejects anything else).
        doc-ref: FORMATS.md 6.1
      - id: total_length
        type: u4
        doc: Octets of blocks that follow; they must fill it exactly.
        doc-ref: FORMATS.md 6.1
      - id: block_list
        type: ext_info_blocks
        size: total_length
        doc: The blocks.
        doc-ref: FORMATS.md 6.1
    instances:
      vcpu_context_size:
        value: 'block_list.blocks.size == 0 ? 0 : block_list.blocks.last.vcpu_size_through'
        doc: Size of the last "vcpu" block (0 if none); also the size of each vCPU context in the tail.
        doc-ref: FORMATS.md 6.1
      has_extv:
        value: 'block_list.blocks.size == 0 ? false : block_list.blocks.last.has_extv_through'
        doc: Whether an "extv" block is present (128-octet extended contexts follow in the tail).
        doc-ref: FORMATS.md 6.1
      xsave_length:
        value: 'block_list.blocks.size == 0 ? 0 : block_list.blocks.last.xsave_length_through'
        doc: The last "xcnt" block's xsave length (0 if none).
        doc-ref: FORMATS.md 6.1
      guest_width:
        value: 'vcpu_context_size == 0x1430 ? 8 : (vcpu_context_size == 0xaf0 ? 4 : 0)'
        doc: 8 for a 0x1430-octet "vcpu" block (64-bit, 4 levels), 4 for 0xAF0 (32-bit, 3 levels), else 0.
        doc-ref: FORMATS.md 6.1
      pt_levels:
        value: 'guest_width == 8 ? 4 : (guest_width == 4 ? 3 : 0)'
        doc: Page-table levels implied by the "vcpu" block size.
        doc-ref: FORMATS.md 6.1

  ext_info_blocks:
    doc: The extended-info blocks, filling total_length.
    doc-ref: FORMATS.md 6.1
    seq:
      - id: blocks
        type: >-
          ext_info_block(
          _index == 0 ? 0 : blocks[_index - 1].vcpu_size_through,
          _index == 0 ? false : blocks[_index - 1].has_extv_through,
          _index == 0 ? 0 : blocks[_index - 1].xsave_length_through)
        repeat: eos
        doc: The blocks, in stream order.
        doc-ref: FORMATS.md 6.1

  ext_info_block:
    doc: 'One extended-info block: char id[4], u32 size, size octets of data.'
    doc-ref: FORMATS.md 6.1
    params:
      - id: prev_vcpu_size
        type: s4
        doc: vcpu_size_through of the previous block.
      - id: prev_has_extv
        type: bool
        doc: has_extv_through of the previous block.
      - id: prev_xsave_length
        type: s4
        doc: xsave_length_through of the previous block.
    seq:
      - id: block_id
        type: str
        size: 4
        encoding: ASCII
        doc: '"vcpu", "extv" or "xcnt"; the converter rejects any other id.'
        doc-ref: FORMATS.md 6.1
      - id: size
        type: u4
        doc: Data size. For "vcpu" it gives the guest type (0x1430 or 0xAF0); for "extv" it is 0.
        doc-ref: FORMATS.md 6.1
      - id: data
        size: size
        doc: The block data ("vcpu" data is a vcpu_guest_context and is not used by the converter).
        doc-ref: FORMATS.md 6.1
        type:
          switch-on: block_id
          cases:
            '"xcnt"': xcnt_block
    instances:
      is_known:
        value: block_id == "vcpu" or block_id == "extv" or block_id == "xcnt"
        doc: Whether the converter knows this block id.
        doc-ref: FORMATS.md 6.1
      vcpu_size_through:
        value: 'block_id == "vcpu" ? size.as<s4> : prev_vcpu_size'
        doc: The "vcpu" block size seen so far (the last one wins).
        doc-ref: FORMATS.md 6.1
      has_extv_through:
        value: block_id == "extv" or prev_has_extv
        doc: Whether an "extv" block was seen so far.
        doc-ref: FORMATS.md 6.1
      xsave_length_through:
        value: 'block_id == "xcnt" ? data.as<xcnt_block>.xsave_length : prev_xsave_length'
        doc: The "xcnt" xsave length seen so far (the last one wins).
        doc-ref: FORMATS.md 6.1

  xcnt_block:
    doc: The "xcnt" block data; the converter reads only the first u32.
    doc-ref: FORMATS.md 6.1
    seq:
      - id: xsave_length
        type: s4
        doc: Length of each vCPU's xsave record in the PV tail (mask, size and area; size = xsave_length - 16).
        doc-ref: FORMATS.md 6.3
      - id: rest
        size-eos: true
        doc: The rest of the block, unused by the converter.
        doc-ref: FORMATS.md 6.1

  chunk:
    doc: |
      One body chunk: an int32 id, then (id > 0) a page batch of id pages, (id < 0) an
      XC_SAVE_ID_* payload, or (id == 0) nothing: the end of the body.
    doc-ref: FORMATS.md 6.2
    params:
      - id: width
        type: u1
        doc: Toolstack word size in bits.
      - id: prev_online_vcpus
        type: s4
        doc: online_vcpus_through of the previous chunk.
    seq:
      - id: chunk_id
        type: s4
        doc: Page count (> 0), XC_SAVE_ID_* (< 0, see `kind`) or 0 for the end of the body.
        doc-ref: FORMATS.md 6.2
      - id: body
        doc: The payload, by chunk id (the XC_SAVE_ID_* table of FORMATS.md 6.2).
        doc-ref: FORMATS.md 6.2
        type:
          switch-on: 'chunk_id > 0 ? 1 : chunk_id'
          cases:
            1: page_batch(chunk_id, width)
            0: no_payload
            -1: no_payload
            -2: vcpu_info
            -3: hvm_param_chunk(libxc_stream::hvm_param::ident_pt)
            -4: hvm_param_chunk(libxc_stream::hvm_param::vm86_tss)
            -5: unsupported_chunk
            -6: unsupported_chunk
            -7: tsc_info_chunk
            -8: hvm_param_chunk(libxc_stream::hvm_param::console_pfn)
            -9: no_payload
            -10: hvm_param_chunk(libxc_stream::hvm_param::acpi_ioports_location)
            -11: hvm_param_chunk(libxc_stream::hvm_param::viridian)
            -12: compressed_data_chunk
            -13: unsupported_chunk
            -14: hvm_param_chunk(libxc_stream::hvm_param::vm_generation_id_addr)
            -15: hvm_param_chunk(libxc_stream::hvm_param::paging_ring_pfn)
            -16: hvm_param_chunk(libxc_stream::hvm_param::monitor_ring_pfn)
            -17: hvm_param_chunk(libxc_stream::hvm_param::sharing_ring_pfn)
            -18: toolstack_chunk(width)
            -19: hvm_param_chunk(libxc_stream::hvm_param::ioreq_server_pfn)
            -20: hvm_param_chunk(libxc_stream::hvm_param::nr_ioreq_server_pages)
            _: unsupported_chunk
    instances:
      kind:
        value: chunk_id
        enum: legacy_chunk_id
        doc: The XC_SAVE_ID_* name of a negative id.
        doc-ref: FORMATS.md 6.2
      is_page_batch:
        value: chunk_id > 0
        doc: Whether this chunk is a page batch.
        doc-ref: FORMATS.md 6.2
      online_vcpus_through:
        value: 'chunk_id == -2 ? prev_online_vcpus + body.as<vcpu_info>.online_count : prev_online_vcpus'
        doc: Online vCPUs announced by VCPU_INFO chunks so far (the PV tail has one context per online vCPU).
        doc-ref: FORMATS.md 6.3

  no_payload:
    doc: A chunk with nothing after its id (end of body, ENABLE_VERIFY_MODE, LAST_CHECKPOINT).
    doc-ref: FORMATS.md 6.2
    seq: []

  unsupported_chunk:
    doc: |
      A chunk whose payload layout is not known here: TMEM and TMEM_EXTRA, ENABLE_COMPRESSION
      (the "format B" body that follows is not described) and unknown ids. convert-legacy-stream
      fails on these too; this type always fails with a validation error.
    doc-ref: FORMATS.md 6.2
    seq:
      - id: payload
        size: 0
        valid:
          expr: false
        doc: Always fails.
        doc-ref: FORMATS.md 6.2

  page_batch:
    doc: |
      A page batch: count ulong pfn words (type in bits 31..28, pfn in 27..0), then 4096 octets for
      each entry whose type is below 0xD (not BROKEN, XALLOC or XTAB).
    doc-ref: FORMATS.md 6.2
    params:
      - id: count
        type: s4
        doc: The chunk id, i.e. the number of pfn words.
      - id: width
        type: u1
        doc: Toolstack word size in bits.
    seq:
      - id: pfns
        type: 'legacy_pfn_word(width, _index == 0 ? 0 : pfns[_index - 1].data_pages_through)'
        repeat: expr
        repeat-expr: count
        doc: The pfn words.
        doc-ref: FORMATS.md 6.2
      - id: pages
        size: 4096
        repeat: expr
        repeat-expr: num_data_pages
        doc: One page per data-carrying pfn word, in order.
        doc-ref: FORMATS.md 6.2
    instances:
      num_data_pages:
        value: 'count <= 0 ? 0 : pfns.last.data_pages_through'
        doc: Pfn words whose type is below 0xD.
        doc-ref: FORMATS.md 6.2
      exceeds_max_batch:
        value: count > 1024
        doc: The converter rejects batches above MAX_BATCH (1024).
        doc-ref: FORMATS.md 6.2

  legacy_pfn_word:
    doc: |
      One legacy pfn word (a ulong): the XEN_DOMCTL_PFINFO_* type in bits 31..28, the pfn in bits
      27..0; on a 64-bit toolstack bits 63..32 are ignored by the converter.
    doc-ref: FORMATS.md 6.2
    meta:
      bit-endian: le
    params:
      - id: width
        type: u1
        doc: Toolstack word size in bits.
      - id: data_pages_before
        type: s4
        doc: Data-carrying words earlier in the batch.
    seq:
      - id: pfn
        type: b28
        doc: Bits 27..0.
        doc-ref: FORMATS.md 6.2
      - id: type
        type: b4
        enum: libxc_stream::page_type
        doc: Bits 31..28 (the same XEN_DOMCTL_PFINFO_* values as in v2).
        doc-ref: FORMATS.md 6.2
      - id: high
        type: b32
        if: width == 64
        doc: Bits 63..32 of a 64-bit word (unused).
        doc-ref: FORMATS.md 6.2
    instances:
      has_data:
        value: type.to_i < 0xd
        doc: Whether a page follows for this word (type below 0xD; unlike v2, 5..8 count).
        doc-ref: FORMATS.md 6.2
      is_dropped_xtab:
        value: type == libxc_stream::page_type::x_tab and pfn == 0 and (width == 32 or high == 0)
        doc: The bare 0xF0000000 entries the converter drops.
        doc-ref: FORMATS.md 6.2
      data_pages_through:
        value: 'data_pages_before + (has_data ? 1 : 0)'
        doc: Data-carrying words up to and including this one.
        doc-ref: FORMATS.md 6.2

  vcpu_info:
    doc: 'VCPU_INFO (-2): int max_vcpu_id, then u64 bitmap[max_vcpu_id / 64 + 1] of online vCPUs.'
    doc-ref: FORMATS.md 6.2
    seq:
      - id: max_vcpu_id
        type: s4
        doc: Highest vCPU id (the converter rejects values above 4095).
        doc-ref: FORMATS.md 6.2
      - id: bitmap
        type: 'vcpu_bitmap_word(_index == 0 ? 0 : bitmap[_index - 1].online_through)'
        repeat: expr
        repeat-expr: num_words
        doc: Online-vCPU bitmap words; bit n of word w is vCPU 64w + n.
        doc-ref: FORMATS.md 6.2
    instances:
      num_words:
        value: 'max_vcpu_id < 0 ? 0 : max_vcpu_id / 64 + 1'
        doc: Bitmap words.
        doc-ref: FORMATS.md 6.2
      online_count:
        value: 'num_words == 0 ? 0 : bitmap.last.online_through'
        doc: Number of set bits.
        doc-ref: FORMATS.md 6.3
      exceeds_max_vcpu_id:
        value: max_vcpu_id > 4095
        doc: The converter rejects max_vcpu_id above MAX_VCPU_ID (4095).
        doc-ref: FORMATS.md 6.2

  vcpu_bitmap_word:
    doc: One u64 of the online-vCPU bitmap, with its population count.
    doc-ref: FORMATS.md 6.2
    params:
      - id: online_before
        type: s4
        doc: Set bits in the earlier words.
    seq:
      - id: word
        type: u8
        doc: The bitmap word.
        doc-ref: FORMATS.md 6.2
    instances:
      pop2:
        value: (word - ((word >> 1) & 0x5555555555555555)).as<u8>
        doc: Popcount step 1 (2-bit sums).
        doc-ref: FORMATS.md 6.2
      pop4:
        value: ((pop2 & 0x3333333333333333) + ((pop2 >> 2) & 0x3333333333333333)).as<u8>
        doc: Popcount step 2 (4-bit sums).
        doc-ref: FORMATS.md 6.2
      pop8:
        value: ((pop4 + (pop4 >> 4)) & 0x0f0f0f0f0f0f0f0f).as<u8>
        doc: Popcount step 3 (8-bit sums).
        doc-ref: FORMATS.md 6.2
      popcount:
        value: (pop8 + (pop8 >> 8) + (pop8 >> 16) + (pop8 >> 24) + (pop8 >> 32) + (pop8 >> 40) + (pop8 >> 48) + (pop8 >> 56)) & 0x7f
        doc: Number of set bits in the word.
        doc-ref: FORMATS.md 6.2
      online_through:
        value: online_before + popcount
        doc: Set bits up to and including this word.
        doc-ref: FORMATS.md 6.2

  hvm_param_chunk:
    doc: |
      An HVM param chunk: u32 pad, u64 value. The converter turns every such chunk into an entry of
      one HVM_PARAMS record written at the end of the body; `param` is the index it uses.
    doc-ref: FORMATS.md 6.2
    params:
      - id: param
        type: u8
        enum: libxc_stream::hvm_param
        doc: The HVM param this chunk id converts to.
    seq:
      - id: pad
        type: u4
        doc: Padding (read as =IQ by the converter, so the value is unaligned).
        doc-ref: FORMATS.md 6.2
      - id: value
        type: u8
        doc: The param's value.
        doc-ref: FORMATS.md 6.2

  tsc_info_chunk:
    doc: 'TSC_INFO (-7): u32 mode, u64 nsec, u32 khz, u32 incarnation (a different order from v2).'
    doc-ref: FORMATS.md 6.2
    seq:
      - id: mode
        type: u4
        enum: libxc_stream::tsc_mode
        doc: TSC mode.
        doc-ref: FORMATS.md 6.2
      - id: nsec
        type: u8
        doc: Elapsed nanoseconds.
        doc-ref: FORMATS.md 6.2
      - id: khz
        type: u4
        doc: Guest TSC frequency in kHz.
        doc-ref: FORMATS.md 6.2
      - id: incarnation
        type: u4
        doc: Migration count.
        doc-ref: FORMATS.md 6.2

  compressed_data_chunk:
    doc: |
      COMPRESSED_DATA (-12): u32 size, size octets of Remus delta-compressed pages (a marker byte:
      bit 7 = skip, bits 6..0 = run length in words). legacy.py documents the size as an unsigned
      long, but the converter reads a u32; this follows the converter.
    doc-ref: FORMATS.md 6.2
    seq:
      - id: size
        type: u4
        doc: Length of the compressed data.
        doc-ref: FORMATS.md 6.2
      - id: data
        size: size
        doc: The compressed data (not decompressed here).
        doc-ref: FORMATS.md 6.2

  toolstack_chunk:
    doc: |
      TOOLSTACK (-18): u32 size, then the toolstack blob. libxl wrote its QEMU physmap there
      (version 1); the converter turns it into EMULATOR_XENSTORE_DATA in libxl mode and drops it
      in libxc mode.
    doc-ref: FORMATS.md 6.2
    params:
      - id: width
        type: u1
        doc: Toolstack word size in bits (64-bit builds leak 4 octets after each name).
    seq:
      - id: size
        type: u4
        doc: Blob size (0 for none).
        doc-ref: FORMATS.md 6.2
      - id: blob
        type: libxl_toolstack_blob(width)
        size: size
        if: size != 0
        doc: The blob.
        doc-ref: FORMATS.md 6.4

  libxl_toolstack_blob:
    doc: 'The legacy libxl "toolstack" blob: u32 version (1), u32 count, count physmap entries.'
    doc-ref: FORMATS.md 6.4
    params:
      - id: width
        type: u1
        doc: Toolstack word size in bits.
    seq:
      - id: version
        type: u4
        doc: 1; the converter refuses other versions.
        doc-ref: FORMATS.md 6.4
      - id: count
        type: u4
        if: version == 1
        doc: Number of physmap entries.
        doc-ref: FORMATS.md 6.4
      - id: entries
        type: physmap_entry(width)
        repeat: expr
        repeat-expr: count
        if: version == 1
        doc: The physmap entries.
        doc-ref: FORMATS.md 6.4
      - id: rest
        size-eos: true
        doc: Octets after the entries (or the whole rest for an unknown version).
        doc-ref: FORMATS.md 6.4

  physmap_entry:
    doc: struct libxl__physmap_info, with the 4 octets a 64-bit build leaked after the name.
    doc-ref: FORMATS.md 6.4
    params:
      - id: width
        type: u1
        doc: Toolstack word size in bits.
    seq:
      - id: phys_offset
        type: u8
        doc: Becomes the key physmap/<phys_offset in hex>/.
        doc-ref: FORMATS.md 6.4
      - id: start_addr
        type: u8
        doc: Becomes physmap/<phys>/start_addr.
        doc-ref: FORMATS.md 6.4
      - id: size
        type: u8
        doc: Becomes physmap/<phys>/size.
        doc-ref: FORMATS.md 6.4
      - id: namelen
        type: u4
        doc: Name length including its NUL (the converter rejects 0).
        doc-ref: FORMATS.md 6.4
      - id: name
        type: str
        size: namelen
        terminator: 0
        encoding: ASCII
        doc: Becomes physmap/<phys>/name (NUL-terminated).
        doc-ref: FORMATS.md 6.4
      - id: leaked_padding
        size: 'width == 64 ? 4 : 0'
        doc: The 4 octets of struct padding a 64-bit build leaked after the name.
        doc-ref: FORMATS.md 6.4

  pv_tail_section:
    doc: |
      The PV tail: u32 nr_unmapped, ulong unmapped[nr_unmapped] (discarded by the converter as
      bogus), one context record per online vCPU, then the 4096-octet shared_info page.
    doc-ref: FORMATS.md 6.3
    params:
      - id: width
        type: u1
        doc: Toolstack word size in bits.
      - id: num_vcpus
        type: s4
        doc: Online vCPUs from the VCPU_INFO chunks.
      - id: vcpu_context_size
        type: s4
        doc: Basic context size (the "vcpu" block size).
      - id: has_extv
        type: bool
        doc: Whether 128-octet extended contexts follow.
      - id: xsave_length
        type: s4
        doc: The "xcnt" length (0 for no xsave records).
    seq:
      - id: nr_unmapped
        type: u4
        doc: Number of unmapped pfns.
        doc-ref: FORMATS.md 6.3
      - id: unmapped
        type:
          switch-on: width
          cases:
            32: u4
            64: u8
        repeat: expr
        repeat-expr: nr_unmapped
        doc: The unmapped pfns (ulongs).
        doc-ref: FORMATS.md 6.3
      - id: vcpus
        type: pv_tail_vcpu(vcpu_context_size, has_extv, xsave_length)
        repeat: expr
        repeat-expr: num_vcpus
        doc: One record per online vCPU, in vCPU id order.
        doc-ref: FORMATS.md 6.3
      - id: shared_info
        size: 4096
        doc: The shared_info page.
        doc-ref: FORMATS.md 6.3

  pv_tail_vcpu:
    doc: One vCPU's contexts in the PV tail.
    doc-ref: FORMATS.md 6.3
    params:
      - id: vcpu_context_size
        type: s4
        doc: Basic context size.
      - id: has_extv
        type: bool
        doc: Whether a 128-octet extended context follows.
      - id: xsave_length
        type: s4
        doc: The "xcnt" length (0 for none).
    seq:
      - id: basic
        size: vcpu_context_size
        doc: The vcpu_guest_context (becomes X86_PV_VCPU_BASIC).
        doc-ref: FORMATS.md 6.3
      - id: extended
        size: 128
        if: has_extv
        doc: The extended context (becomes X86_PV_VCPU_EXTENDED).
        doc-ref: FORMATS.md 6.3
      - id: xsave
        type: pv_tail_xsave
        if: xsave_length != 0
        doc: The xsave record (becomes X86_PV_VCPU_XSAVE).
        doc-ref: FORMATS.md 6.3

  pv_tail_xsave:
    doc: 'u64 mask, u64 size, u8 xsave[size]; the converter asserts size == xcnt length - 16.'
    doc-ref: FORMATS.md 6.3
    seq:
      - id: mask
        type: u8
        doc: The xsave feature mask.
        doc-ref: FORMATS.md 6.3
      - id: size
        type: u8
        doc: Length of the xsave area.
        doc-ref: FORMATS.md 6.3
      - id: area
        size: size
        doc: The xsave area.
        doc-ref: FORMATS.md 6.3

  hvm_tail_section:
    doc: |
      The HVM tail: three u64 magic pfns (one HVM_PARAMS record: IOREQ_PFN, BUFIOREQ_PFN,
      STORE_PFN), then u32 length and the Xen HVM context (HVM_CONTEXT).
    doc-ref: FORMATS.md 6.3
    seq:
      - id: ioreq_pfn
        type: u8
        doc: Becomes HVM_PARAMS IOREQ_PFN (5).
        doc-ref: FORMATS.md 6.3
      - id: bufioreq_pfn
        type: u8
        doc: Becomes HVM_PARAMS BUFIOREQ_PFN (6).
        doc-ref: FORMATS.md 6.3
      - id: store_pfn
        type: u8
        doc: Becomes HVM_PARAMS STORE_PFN (1).
        doc-ref: FORMATS.md 6.3
      - id: context_length
        type: u4
        doc: Length of the HVM context.
        doc-ref: FORMATS.md 6.3
      - id: context
        type: libxc_stream::hvm_context
        size: context_length
        doc: The Xen HVM save blob (the same format as the v2 HVM_CONTEXT body).
        doc-ref:
          - FORMATS.md 6.3
          - FORMATS.md 4.1

  qemu_record:
    doc: |
      The QEMU record after the HVM tail: a 21-character signature, then the device-model state.
      The converter supports only "DeviceModelRecord0002" (in libxl mode it becomes
      EMULATOR_CONTEXT with emulator_id 0).
    doc-ref: FORMATS.md 6.3
    seq:
      - id: signature
        type: str
        size: 21
        encoding: ASCII
        doc: '"DeviceModelRecord0002", "QemuDeviceModelRecord" or "RemusDeviceModelState".'
        doc-ref: FORMATS.md 6.3
      - id: body
        doc: The state, laid out according to the signature.
        doc-ref: FORMATS.md 6.3
        type:
          switch-on: signature
          cases:
            '"DeviceModelRecord0002"': qemu_sized_state
            '"RemusDeviceModelState"': qemu_sized_state
            '"QemuDeviceModelRecord"': qemu_state_to_eof
            _: unsupported_chunk

  qemu_sized_state:
    doc: u32 length, then the QEMU save data.
    doc-ref: FORMATS.md 6.3
    seq:
      - id: length
        type: u4
        doc: Length of the data.
        doc-ref: FORMATS.md 6.3
      - id: data
        size: length
        doc: QEMU save data.
        doc-ref: FORMATS.md 6.3

  qemu_state_to_eof:
    doc: qemu-traditional's record; the data runs to the end of the stream.
    doc-ref: FORMATS.md 6.3
    seq:
      - id: data
        size-eos: true
        doc: QEMU save data.
        doc-ref: FORMATS.md 6.3

enums:
  guest_type:
    0:
      id: pv
      doc: A PV guest (convert-legacy-stream -g pv).
    1:
      id: hvm
      doc: An HVM guest (convert-legacy-stream -g hvm).

  legacy_chunk_id:
    -1:
      id: enable_verify_mode
      doc: Debug verify mode; no payload.
      -orig-id: XC_SAVE_ID_ENABLE_VERIFY_MODE
    -2:
      id: vcpu_info
      doc: int max_vcpu_id; u64 bitmap[].
      -orig-id: XC_SAVE_ID_VCPU_INFO
    -3:
      id: hvm_ident_pt
      doc: u32 pad; u64 value; HVM param IDENT_PT.
      -orig-id: XC_SAVE_ID_HVM_IDENT_PT
    -4:
      id: hvm_vm86_tss
      doc: u32 pad; u64 value; HVM param VM86_TSS.
      -orig-id: XC_SAVE_ID_HVM_VM86_TSS
    -5:
      id: tmem
      doc: TMEM (not supported by the converter).
      -orig-id: XC_SAVE_ID_TMEM
    -6:
      id: tmem_extra
      doc: TMEM extra (not supported by the converter).
      -orig-id: XC_SAVE_ID_TMEM_EXTRA
    -7:
      id: tsc_info
      doc: u32 mode; u64 nsec; u32 khz; u32 incarnation.
      -orig-id: XC_SAVE_ID_TSC_INFO
    -8:
      id: hvm_console_pfn
      doc: u32 pad; u64 value; HVM param CONSOLE_PFN.
      -orig-id: XC_SAVE_ID_HVM_CONSOLE_PFN
    -9:
      id: last_checkpoint
      doc: 'Remus: the last checkpoint; no payload.'
      -orig-id: XC_SAVE_ID_LAST_CHECKPOINT
    -10:
      id: hvm_acpi_ioports_location
      doc: u32 pad; u64 value; HVM param ACPI_IOPORTS_LOCATION.
      -orig-id: XC_SAVE_ID_HVM_ACPI_IOPORTS_LOCATION
    -11:
      id: hvm_viridian
      doc: u32 pad; u64 value; HVM param VIRIDIAN.
      -orig-id: XC_SAVE_ID_HVM_VIRIDIAN
    -12:
      id: compressed_data
      doc: u32 size; Remus delta-compressed pages.
      -orig-id: XC_SAVE_ID_COMPRESSED_DATA
    -13:
      id: enable_compression
      doc: 'Remus: later bodies are in format B.'
      -orig-id: XC_SAVE_ID_ENABLE_COMPRESSION
    -14:
      id: hvm_generation_id_addr
      doc: u32 pad; u64 value; HVM param VM_GENERATION_ID_ADDR.
      -orig-id: XC_SAVE_ID_HVM_GENERATION_ID_ADDR
    -15:
      id: hvm_paging_ring_pfn
      doc: u32 pad; u64 value; HVM param PAGING_RING_PFN.
      -orig-id: XC_SAVE_ID_HVM_PAGING_RING_PFN
    -16:
      id: hvm_monitor_ring_pfn
      doc: u32 pad; u64 value; HVM param MONITOR_RING_PFN.
      -orig-id: XC_SAVE_ID_HVM_MONITOR_RING_PFN
    -17:
      id: hvm_sharing_ring_pfn
      doc: u32 pad; u64 value; HVM param SHARING_RING_PFN.
      -orig-id: XC_SAVE_ID_HVM_SHARING_RING_PFN
    -18:
      id: toolstack
      doc: u32 size; toolstack blob.
      -orig-id: XC_SAVE_ID_TOOLSTACK
    -19:
      id: hvm_ioreq_server_pfn
      doc: u32 pad; u64 value; HVM param IOREQ_SERVER_PFN.
      -orig-id: XC_SAVE_ID_HVM_IOREQ_SERVER_PFN
    -20:
      id: hvm_nr_ioreq_server_pages
      doc: u32 pad; u64 value; HVM param NR_IOREQ_SERVER_PAGES.
      -orig-id: XC_SAVE_ID_HVM_NR_IOREQ_SERVER_PAGES
