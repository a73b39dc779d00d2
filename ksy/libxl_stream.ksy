meta:
  id: libxl_stream
  title: Xen libxl migration stream (LibxlFmt, version 2)
  application:
    - libxl save/restore and live migration (tools/libs/light/libxl_stream_{read,write}.c)
    - verify-stream-v2, convert-legacy-stream (tools/python)
  license: CC0-1.0
  ks-version: 0.11
  imports:
    - libxc_stream
  endian: le
doc: |
  The toolstack layer of a Xen save image or migration stream: a big-endian header, then
  8-octet-aligned records framed exactly as in the libxc layer. The LIBXC_CONTEXT record has an
  empty body and is followed immediately by the libxc stream, which is not length-delimited: it
  runs until its own END, or until a CHECKPOINT in a checkpointed (Remus/COLO) stream. Then libxl
  records resume; in a checkpointed stream each CHECKPOINT_END is followed by more libxc records
  (no new headers) up to the next CHECKPOINT.

  Entry points:
  * the top-level type: a whole libxl stream; each `entries` item is one libxl record plus the
    libxc segment that follows it, if any. Parsing stops after END, or at the end of the data (a
    checkpointed stream has no END: it stops at failover).
  * `libxl_record`: one libxl record (header, body, padding) from the current position.

  Limits of this view: the big-endian variant is not described (libxl rejects it); padding is
  exposed but not validated; a failover inside a checkpoint that stops on a record boundary (the
  usual case) parses, and the last libxc segment then has ends_with_checkpoint false: counting the
  complete checkpoints and discarding the partial one is left to the reader; a stream cut inside a
  record fails with an end-of-stream error;
  the COLO back channel (bare CHECKPOINT_STATE and CHECKPOINT_DIRTY_PFN_LIST records with no
  header) has to be read record by record with `libxl_record` and libxc_stream's `libxc_record`,
  since nothing in a record header says which layer it belongs to. The post-copy RFC's libxl
  record 0x6 is not part of this dictionary; see postcopy_rfc.ksy.
doc-ref:
  - FORMATS.md 0
  - FORMATS.md 2
  - https://xenbits.xen.org/docs/unstable/specs/libxl-migration-stream.html
seq:
  - id: header
    type: libxl_header
    doc: Always big-endian.
    doc-ref: FORMATS.md 2.1
  - id: entries
    type: libxl_entry
    repeat: until
    repeat-until: _.record.type == libxl_record_type::end or _io.eof
    doc: libxl records, each with the libxc segment that follows it, up to and including END.
    doc-ref: FORMATS.md 2.4
types:
  libxl_header:
    doc: The 16-octet libxl stream header (struct libxl__sr_hdr). Always big-endian.
    doc-ref: FORMATS.md 2.1
    meta:
      endian: be
    seq:
      - id: ident
        type: u8
        valid: '0x4c6962786c466d74'
        doc: '"LibxlFmt".'
        doc-ref: FORMATS.md 2.1
      - id: version
        type: u4
        doc: 2; libxl and verify both require exactly 2. Not validated here.
        doc-ref: FORMATS.md 2.1
      - id: options
        type: u4
        doc: 'Bit 0: big-endian; bit 1: written by convert-legacy-stream; bits 2..31 reserved.'
        doc-ref: FORMATS.md 2.1
    instances:
      is_big_endian:
        value: (options & libxl_option_bits::big_endian.to_i) != 0
        doc: The endianness bit. libxl rejects big-endian streams.
        doc-ref: FORMATS.md 2.1
      is_legacy:
        value: (options & libxl_option_bits::legacy.to_i) != 0
        doc: Set by convert-legacy-stream.
        doc-ref:
          - FORMATS.md 2.1
          - FORMATS.md 6.4
      reserved_options:
        value: (options & 0xfffffffc).as<u4>
        doc: Bits 2..31. libxl ignores them; verify checks only bits 2..15.
        doc-ref:
          - FORMATS.md 2.1
          - FORMATS.md 10

  libxl_entry:
    doc: |
      One libxl record and, when the record hands control to libxc, the libxc segment that
      follows: after LIBXC_CONTEXT a libxc stream with its headers; after CHECKPOINT_END (if the
      stream goes on) the next checkpoint's libxc records with no headers.
    doc-ref:
      - FORMATS.md 0
      - FORMATS.md 2.4
    seq:
      - id: record
        type: libxl_record
        doc: The libxl record.
        doc-ref: FORMATS.md 2.2
      - id: libxc
        type: libxc_stream::libxc_segment(true)
        if: record.type == libxl_record_type::libxc_context
        doc: The libxc stream handed over by LIBXC_CONTEXT, up to its END or first CHECKPOINT.
        doc-ref:
          - FORMATS.md 0
          - FORMATS.md 2.3
      - id: libxc_checkpoint
        type: libxc_stream::libxc_segment(false)
        if: record.type == libxl_record_type::checkpoint_end and not _io.eof
        doc: The next checkpoint's libxc records (no new headers), up to the next CHECKPOINT.
        doc-ref:
          - FORMATS.md 2.4
          - FORMATS.md 5.4

  libxl_record:
    doc: |
      One record: u32 type, u32 body_length, the body, then zero padding up to the next 8-octet
      boundary (struct libxl__sr_rec_hdr). Parses from the current position, so it can be used on
      its own. libxl has no maximum body length.
    doc-ref: FORMATS.md 2.2
    seq:
      - id: type
        type: u4
        enum: libxl_record_type
        doc: Record type.
        doc-ref: FORMATS.md 2.3
      - id: length
        type: u4
        doc: Body length in octets, before padding.
        doc-ref: FORMATS.md 2.2
      - id: body
        size: length
        doc: The body, decoded according to the type (raw octets for empty and unknown bodies).
        doc-ref: FORMATS.md 2.3
        type:
          switch-on: type
          cases:
            libxl_record_type::emulator_xenstore_data: emulator_xenstore_data
            libxl_record_type::emulator_context: emulator_context
            libxl_record_type::checkpoint_state: checkpoint_state
      - id: padding
        size: (8 - length % 8) % 8
        doc: Zero on save; verify rejects non-zero padding.
        doc-ref: FORMATS.md 2.2

  emulator_header:
    doc: The 8-octet emulator sub-header of the EMULATOR_* records (struct libxl__sr_emulator_hdr).
    doc-ref: FORMATS.md 2.3
    seq:
      - id: emulator_id
        type: u4
        enum: emulator_id
        doc: Which device model; 3 and above are reserved.
        doc-ref: FORMATS.md 2.3
      - id: index
        type: u4
        doc: The emulator's index within the domain.
        doc-ref: FORMATS.md 2.3

  emulator_xenstore_data:
    doc: |
      EMULATOR_XENSTORE_DATA (HVM only): the emulator sub-header, then packed NUL-terminated
      key, value string pairs. Keys are relative to
      /local/domain/$dm_domid/device-model/$domid/ (e.g. physmap/<phys>/start_addr).
      A trailing key with no value fails with an end-of-stream error.
    doc-ref: FORMATS.md 2.3
    seq:
      - id: emulator
        type: emulator_header
        doc: Emulator sub-header.
        doc-ref: FORMATS.md 2.3
      - id: pairs
        type: xenstore_pair
        repeat: eos
        doc: The key/value pairs.
        doc-ref: FORMATS.md 2.3

  xenstore_pair:
    doc: One xenstore key and its value, each NUL-terminated.
    doc-ref: FORMATS.md 2.3
    seq:
      - id: key
        type: strz
        encoding: UTF-8
        doc: Key, relative to the device model's xenstore directory.
        doc-ref: FORMATS.md 2.3
      - id: value
        type: strz
        encoding: UTF-8
        doc: Value.
        doc-ref: FORMATS.md 2.3

  emulator_context:
    doc: |
      EMULATOR_CONTEXT (HVM only): the emulator sub-header, then the device model's opaque state.
      For qemu-upstream it is QEMU's xen-save-devices-state output, a savevm image starting with
      "QEVM".
    doc-ref: FORMATS.md 2.3
    seq:
      - id: emulator
        type: emulator_header
        doc: Emulator sub-header.
        doc-ref: FORMATS.md 2.3
      - id: blob
        size-eos: true
        doc: The device-model state.
        doc-ref: FORMATS.md 2.3
    instances:
      is_qemu_savevm:
        value: blob.size >= 4 and blob[0] == 0x51 and blob[1] == 0x45 and blob[2] == 0x56 and blob[3] == 0x4d
        doc: Whether the blob starts with QEMU's "QEVM" savevm magic.
        doc-ref: FORMATS.md 2.3

  checkpoint_state:
    doc: |
      CHECKPOINT_STATE (COLO back channel): u32 control_id, padded to 8. An empty body (which the C
      reader would dereference as NULL) fails with an end-of-stream error.
    doc-ref: FORMATS.md 2.3
    seq:
      - id: control_id
        type: u4
        enum: checkpoint_control_id
        doc: The COLO control message.
        doc-ref: FORMATS.md 2.3
      - id: rest
        size-eos: true
        doc: Octets after control_id inside the body (none from libxl).
        doc-ref: FORMATS.md 2.3

enums:
  libxl_record_type:
    0:
      id: end
      doc: The last libxl record; empty body.
      -orig-id: REC_TYPE_END
    1:
      id: libxc_context
      doc: Empty; the libxc stream follows immediately.
      -orig-id: REC_TYPE_LIBXC_CONTEXT
    2:
      id: emulator_xenstore_data
      doc: Emulator sub-header and key/value pairs.
      -orig-id: REC_TYPE_EMULATOR_XENSTORE_DATA
    3:
      id: emulator_context
      doc: Emulator sub-header and device-model state.
      -orig-id: REC_TYPE_EMULATOR_CONTEXT
    4:
      id: checkpoint_end
      doc: Ends one checkpoint's libxl records; empty body.
      -orig-id: REC_TYPE_CHECKPOINT_END
    5:
      id: checkpoint_state
      doc: 'COLO control: u32 control_id.'
      -orig-id: REC_TYPE_CHECKPOINT_STATE

  libxl_option_bits:
    1:
      id: big_endian
      doc: Bit 0; clear means little-endian.
      -orig-id: RESTORE_OPT_BIG_ENDIAN
    2:
      id: legacy
      doc: Bit 1; the stream was converted by convert-legacy-stream.
      -orig-id: RESTORE_OPT_LEGACY

  emulator_id:
    0:
      id: unknown
      doc: Unknown (streams converted from legacy).
      -orig-id: EMULATOR_UNKNOWN
    1:
      id: qemu_traditional
      doc: qemu-traditional (dropped in Xen 4.21).
      -orig-id: EMULATOR_QEMU_TRADITIONAL
    2:
      id: qemu_upstream
      doc: qemu-upstream (qemu-xen).
      -orig-id: EMULATOR_QEMU_UPSTREAM

  checkpoint_control_id:
    0:
      id: checkpoint_new
      doc: Primary to secondary; start a new checkpoint.
      -orig-id: CHECKPOINT_NEW
    1:
      id: svm_suspended
      doc: Secondary to primary; the secondary VM is suspended.
      -orig-id: CHECKPOINT_SVM_SUSPENDED
    2:
      id: svm_ready
      doc: Secondary to primary; the secondary VM is ready.
      -orig-id: CHECKPOINT_SVM_READY
    3:
      id: svm_resumed
      doc: Secondary to primary; the secondary VM is resumed.
      -orig-id: CHECKPOINT_SVM_RESUMED
